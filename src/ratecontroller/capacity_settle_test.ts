import { assert, assertEquals } from "../util/assert.ts";
import { SETTLE_DEFAULTS, type SettleState, settling } from "./capacity_settle.ts";

/** An upload cut at 100 s under a load running since 90 s: 5000 remembered, 2400 measured. */
function dropped(): SettleState {
  return {
    cap: 2400,
    recall: 5000,
    lastCutS: 100,
    lastCutRate: 1800,
    lastQueueS: 100.3,
    lastLightS: 90,
    min: 1000,
  };
}

Deno.test("settle: after a lasting-looking drop the return waits until no queue was seen for 1 s", () => {
  const d = dropped();
  assert(settling(d, 100.5, SETTLE_DEFAULTS), "the queue was seen 0.2 s ago");
  assert(settling(d, 101.29, SETTLE_DEFAULTS), "0.99 s without a queue");
  assert(!settling(d, 101.3, SETTLE_DEFAULTS), "1 s without a queue");
  d.lastQueueS = 101.2; // the queue showed again: the wait restarts from it
  assert(settling(d, 101.5, SETTLE_DEFAULTS));
  assert(!settling(d, 102.2, SETTLE_DEFAULTS));
});

Deno.test("settle: a small gap, a cut to the floor or a load start do not wait", () => {
  const at = 100.5;
  const cases: [string, Partial<SettleState>][] = [
    ["the remembered level under 1.5 × the measured one (an ordinary probe overshoot)", {
      recall: 3500,
    }],
    ["the cut went to the minimum rate: it measured no level (a collapse)", {
      lastCutRate: 1000,
    }],
    ["the load had started 1 s before the cut: its estimate measured a ramp", { lastLightS: 99 }],
    ["never cut", { lastCutS: -Infinity }],
  ];
  for (const [why, change] of cases) {
    assertEquals(settling({ ...dropped(), ...change }, at, SETTLE_DEFAULTS), false, why);
  }
  assertEquals(settling(dropped(), at, { ...SETTLE_DEFAULTS, clearS: 0 }), false, "0: off");
});

Deno.test("settle: after a starved cut (v43f) the return waits whatever the gap", () => {
  const small = { ...dropped(), recall: 3500 };
  assert(!settling(small, 100.5, SETTLE_DEFAULTS), "an ordinary cut with a small gap");
  assert(settling({ ...small, starvedCut: true }, 100.5, SETTLE_DEFAULTS), "a starved one");
  assert(!settling({ ...small, starvedCut: true }, 101.3, SETTLE_DEFAULTS), "1 s without a queue");
});
