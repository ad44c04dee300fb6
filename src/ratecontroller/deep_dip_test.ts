import { assert, assertEquals } from "../util/assert.ts";
import { DeepDip } from "./deep_dip.ts";

/** A cut at `now` with the given level that wanted to go below the minimum. */
function deepCut(d: DeepDip, now: number, o: { lastCutS: number; level: number }): void {
  d.cut(now, { ...o, belowMin: true, predicted: false });
}

Deno.test("deep dip: a queue still standing at the minimum rate 1.5 s after the cut confirms it", () => {
  const d = new DeepDip();
  deepCut(d, 10, { lastCutS: -Infinity, level: 20000 });
  assertEquals(d.check(11.4, { queued: true, atMin: true }), undefined, "too early");
  assertEquals(d.check(11.5, { queued: true, atMin: true }), 20000, "the level before the cuts");
  assert(d.keepsMemory(11.5) && d.keepsMemory(31.4), "20 s of memory");
  assert(!d.keepsMemory(31.5), "not after 20 s");
});

Deno.test("deep dip: a queue gone (or a rate above the minimum) after 1.5 s is no deep dip", () => {
  const gone = new DeepDip();
  deepCut(gone, 10, { lastCutS: -Infinity, level: 20000 });
  assertEquals(gone.check(11.5, { queued: false, atMin: true }), undefined);
  assert(!gone.keepsMemory(11.5));
  // The candidate is spent: a queue that stands later is not taken for the same dip.
  assertEquals(gone.check(12.5, { queued: true, atMin: true }), undefined);
  const above = new DeepDip();
  deepCut(above, 10, { lastCutS: -Infinity, level: 20000 });
  assertEquals(above.check(11.5, { queued: true, atMin: false }), undefined);
  assert(!above.keepsMemory(11.5));
});

Deno.test("deep dip: a cut within a predicted collapse or above the minimum is no candidate", () => {
  const d = new DeepDip();
  d.cut(10, { lastCutS: -Infinity, level: 20000, belowMin: true, predicted: true });
  d.cut(10.2, { lastCutS: 10, level: 20000, belowMin: false, predicted: false });
  assertEquals(d.check(11.5, { queued: true, atMin: true }), undefined);
});

Deno.test("deep dip: the level recalled is the one before the burst of cuts, not the dip's", () => {
  const d = new DeepDip();
  // First cut of the burst at 19 Mbit/s; the next ones (0.3 s apart) see levels the cuts set.
  d.cut(10, { lastCutS: 2, level: 19000, belowMin: false, predicted: false });
  d.cut(10.3, { lastCutS: 10, level: 9500, belowMin: false, predicted: false });
  deepCut(d, 10.6, { lastCutS: 10.3, level: 5000 });
  assertEquals(d.check(12.1, { queued: true, atMin: true }), 19000);
});

Deno.test("deep dip: confirmS 0 turns the rule off", () => {
  const d = new DeepDip({ confirmS: 0 });
  deepCut(d, 10, { lastCutS: -Infinity, level: 20000 });
  assertEquals(d.check(12, { queued: true, atMin: true }), undefined);
  assert(!d.keepsMemory(12));
});
