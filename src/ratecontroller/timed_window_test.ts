import { assertEquals } from "../util/assert.ts";
import { maxSince, pushTimed, type RateSample } from "./timed_window.ts";

Deno.test("pushTimed drops samples older than the span, keeping the newest `keep`", () => {
  const w: RateSample[] = [];
  pushTimed(w, { t: 0, kbit: 5 }, { spanS: 1 });
  pushTimed(w, { t: 0.5, kbit: 9 }, { spanS: 1 });
  pushTimed(w, { t: 1.2, kbit: 3 }, { spanS: 1 });
  assertEquals(w.map((e) => e.t), [0.5, 1.2]);
  pushTimed(w, { t: 10, kbit: 1 }, { spanS: 1, keep: 1 });
  assertEquals(w.map((e) => e.t), [10]);
  const kept: RateSample[] = [{ t: 0, kbit: 4 }];
  pushTimed(kept, { t: 5, kbit: 2 }, { spanS: 1, keep: 2 });
  assertEquals(kept.length, 2);
});

Deno.test("maxSince: the most at or after the time, 0 for none", () => {
  const w: RateSample[] = [{ t: 0, kbit: 9 }, { t: 1, kbit: 4 }, { t: 2, kbit: 6 }];
  assertEquals(maxSince(w), 9);
  assertEquals(maxSince(w, 1), 6);
  assertEquals(maxSince(w, 3), 0);
  assertEquals(maxSince([]), 0);
});
