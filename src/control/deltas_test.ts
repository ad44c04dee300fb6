import { assertEquals } from "../util/assert.ts";
import { createOwdState } from "../baseline/owd_state.ts";
import { collectDeltas, delayStatistic } from "./deltas.ts";

function entry(up: number, down: number, t: number) {
  return { up_ewma: up, down_ewma: down, last_receive_time_s: t };
}

Deno.test("collectDeltas: only current, fresh peers with both entries; sorted", () => {
  const owd = createOwdState(["a", "b", "c", "d", "e", "f"]);
  owd.baseline.set("a", entry(10, 20, 99.9));
  owd.recent.set("a", entry(13, 21, 99.9)); // up 3, down 1
  owd.baseline.set("b", entry(10, 20, 99.5));
  owd.recent.set("b", entry(11, 25, 99.5)); // up 1, down 5
  owd.baseline.set("c", entry(10, 20, 98.9));
  owd.recent.set("c", entry(50, 50, 98.9)); // stale: 1.1 s old
  owd.recent.set("d", entry(50, 50, 100)); // no baseline
  owd.baseline.set("e", entry(0, 0, 99));
  owd.recent.set("e", entry(2, 2, 99.0000001)); // just inside 1.0 s
  owd.baseline.set("x", entry(0, 0, 100));
  owd.recent.set("x", entry(100, 100, 100)); // not a peer
  const d = collectDeltas(owd, 100, { tickInterval: 0.5 });
  assertEquals(d.ul, [1, 2, 3]);
  assertEquals(d.dl, [1, 2, 5]);
  assertEquals(d.fresh, 3);
  assertEquals(d.tooFew, true);
});

Deno.test("collectDeltas: exactly 2 × tick old is stale; five fresh is enough", () => {
  const owd = createOwdState(["a", "b", "c", "d", "e", "f"]);
  for (const [i, ip] of ["a", "b", "c", "d", "e"].entries()) {
    owd.baseline.set(ip, entry(0, 0, 10));
    owd.recent.set(ip, entry(i, 5 - i, 10));
  }
  owd.baseline.set("f", entry(0, 0, 9));
  owd.recent.set("f", entry(9, 9, 9));
  const d = collectDeltas(owd, 10.9, { tickInterval: 0.5 });
  assertEquals(d.fresh, 5);
  assertEquals(d.tooFew, false);
  assertEquals(d.dl, [1, 2, 3, 4, 5]);
  assertEquals(collectDeltas(owd, 11, { tickInterval: 0.5 }).fresh, 0);
});

Deno.test("delayStatistic: 3rd smallest, else smallest, else undefined", () => {
  assertEquals(delayStatistic([0.4, 1.2, 2.5, 3.1, 9.8]), 2.5);
  assertEquals(delayStatistic([1, 2, 3]), 3);
  assertEquals(delayStatistic([4, 7]), 4);
  assertEquals(delayStatistic([]), undefined);
});

Deno.test("collectDeltas: samples carry the last raw reply's deltas next to the smoothed ones", () => {
  const owd = createOwdState(["a", "b"]);
  owd.baseline.set("a", entry(10, 20, 100));
  owd.recent.set("a", entry(12, 22, 100));
  owd.latest!.set("a", entry(30, 21, 100)); // a late reply: +20 up, +1 down
  owd.baseline.set("b", entry(10, 20, 100));
  owd.recent.set("b", entry(11, 21, 100)); // no raw sample kept: the smoothed value stands in
  const d = collectDeltas(owd, 100.2, { tickInterval: 0.5 });
  assertEquals(
    d.samples.map((s) => [s.reflector, s.ul_delta, s.ul_last, s.dl_delta, s.dl_last]),
    [["a", 2, 20, 2, 1], ["b", 1, 1, 1, 1]],
  );
});

Deno.test("collectDeltas: a stale new peer still awaited after a selection counts toward the five, not as fresh", () => {
  const owd = createOwdState(["a", "b", "c", "d", "e"]);
  for (const ip of ["a", "b", "c"]) {
    owd.baseline.set(ip, entry(0, 0, 10));
    owd.recent.set(ip, entry(1, 1, 10));
  }
  owd.baseline.set("d", entry(0, 0, 9)); // stale
  owd.recent.set("d", entry(1, 1, 9));
  // "e" has not answered at all; "a" is awaited too but fresh: counted once.
  owd.awaitedUntilS = new Map([["a", 11], ["d", 11], ["e", 10.5]]);
  const at = (t: number) => collectDeltas(owd, t, { tickInterval: 0.5 });
  assertEquals([at(10.4).fresh, at(10.4).awaited, at(10.4).tooFew], [3, 2, false]);
  assertEquals([at(10.5).awaited, at(10.5).tooFew], [1, true]);
  assertEquals(at(10.5).ul, [1, 1, 1]);
});
