import { assert, assertEquals } from "../util/assert.ts";
import { NearReturn } from "./near_return.ts";

/** lte at 1.5 Mbit/s: an overshoot cut that measured 1400 kbit/s (docs/controllers.md, "v75"). */
const LEVEL = 1400;
const DT = 0.1;

function afterCut(params = {}): NearReturn {
  const n = new NearReturn(params);
  n.cut(100, { overshoot: true, level: LEVEL });
  return n;
}

Deno.test("near return: fast up to 0.9 of the overshoot cut's level, then 10 % of it per second", () => {
  const n = afterCut();
  assertEquals(
    n.limit(100.5, { cur: 1000, step: 200, dt: DT }),
    200,
    "under the knee at its speed",
  );
  assertEquals(
    n.limit(100.5, { cur: 1200, step: 200, dt: DT }),
    60,
    "to the knee (1260), no further",
  );
  assertEquals(n.limit(100.6, { cur: 1260, step: 200, dt: DT }), 14, "0.1 × 1400 × 0.1 s");
  assertEquals(n.limit(100.6, { cur: 1300, step: 10, dt: DT }), 10, "a smaller step stays");
  assertEquals(
    n.limit(100.6, { cur: 1470, step: 200, dt: DT }),
    200,
    "past 1.05 × the level: free",
  );
});

Deno.test("near return: only after an overshoot cut, for 5 s, until forgotten", () => {
  const none = new NearReturn();
  none.cut(100, { overshoot: false, level: LEVEL });
  assertEquals(none.limit(100.5, { cur: 1260, step: 200, dt: DT }), 200, "no overshoot cut");
  const n = afterCut();
  n.cut(101, { overshoot: false, level: 900 });
  assertEquals(n.limit(104.5, { cur: 1260, step: 200, dt: DT }), 14, "a later cut keeps the level");
  assertEquals(n.limit(105.5, { cur: 1260, step: 200, dt: DT }), 200, "more than 5 s after it");
  const idle = afterCut();
  idle.forget();
  assertEquals(
    idle.limit(100.5, { cur: 1260, step: 200, dt: DT }),
    200,
    "forgotten at a light load",
  );
  const off = afterCut({ below: 0 });
  assertEquals(off.limit(100.5, { cur: 1260, step: 200, dt: DT }), 200, "below 0: off");
  assert(afterCut().limit(100.5, { cur: 1260, step: 200, dt: DT }) < 200);
});
