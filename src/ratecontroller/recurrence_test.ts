import { assert, assertAlmostEquals, assertEquals } from "../util/assert.ts";
import { Recurrence } from "./recurrence.ts";

/** Notes each onset in turn and returns the detector. */
function noted(onsets: readonly number[]): Recurrence {
  const r = new Recurrence();
  for (const t of onsets) r.note(t);
  return r;
}

Deno.test("recurrence: collapses at a stable period are predicted once four earlier ones fit", () => {
  const onsets = [12.1, 27.0, 42.1, 57.0, 72.0];
  assert(Number.isNaN(noted(onsets.slice(0, 4)).periodS), "three fits are not enough");
  const r = noted(onsets);
  assertAlmostEquals(r.periodS, 14.98, 1e-9);
  // The beat is the earliest fitting onset carried forward (27.0 + 3 periods, v30a).
  const beat = 27.0 + 3 * r.periodS;
  assertAlmostEquals(r.next(75, 0.3)!, beat + r.periodS, 1e-9);
  // Within the window after the predicted onset it is still the one predicted.
  assertAlmostEquals(r.next(86.9, 0.3)!, beat + r.periodS, 1e-9);
  assertAlmostEquals(r.next(87.3, 0.3)!, beat + 2 * r.periodS, 1e-9);
});

Deno.test("recurrence: irregular collapses give no period (the off-state)", () => {
  // Intervals of 11–31 s, none a whole number of another within 0.3 s.
  const r = noted([5, 16, 33.5, 46.9, 70.2, 84.1, 115.3, 128.8, 147.6, 171.2]);
  assert(Number.isNaN(r.periodS));
  assertEquals(r.next(180, 0.3), undefined);
});

Deno.test("recurrence: onsets within 2 s are one; an unseen collapse keeps the period", () => {
  const r = noted([10, 25, 25.9, 40, 55, 70]);
  assertAlmostEquals(r.periodS, 15, 1e-9);
  // 85 goes unseen (idle link): the onsets after it are still on the beat.
  for (const t of [100, 115, 130, 145]) {
    r.note(t);
    assertAlmostEquals(r.periodS, 15, 1e-9);
    assertAlmostEquals(r.next(t + 1, 0.3)!, t + 15, 1e-9);
  }
});

Deno.test("recurrence: a collapse off the beat keeps the period; none for four periods ends it", () => {
  const r = noted([10, 25, 40, 55, 70]);
  r.note(77.3);
  assertAlmostEquals(r.periodS, 15, 1e-9);
  assertAlmostEquals(r.next(80, 0.3)!, 85, 1e-9);
  assertAlmostEquals(r.next(120, 0.3)!, 130, 1e-9);
  assertEquals(r.next(131, 0.3), undefined, "four periods after the last onset on the beat");
});

Deno.test("recurrence: onsets dated late do not carry the predictions later (v30a)", () => {
  // A collapse that a pre-emption answered builds its queue later and is dated late: 87.25 and
  // 117.25 on a 15 s beat at 72 and 102 (docs/controllers.md, v30a).
  const r = noted([12, 27, 42, 57, 72, 87.25, 102, 117.25]);
  assertAlmostEquals(r.periodS, 15, 0.05);
  // On the beat of the earliest fitting onset.
  assertAlmostEquals(r.next(118, 0.3)!, 132, 0.05);
  // The newest onset alone (before v30a) would have predicted 132.25, after a lead of 0.4 s
  // too late to answer most of the collapse.
});

Deno.test("recurrence: an onset on the beat after unseen collapses moves the beat only earlier", () => {
  const late = noted([10, 25, 40, 55, 70, 100.2]);
  assertAlmostEquals(late.periodS, 15, 1e-9);
  // The beat stays where it was.
  assertAlmostEquals(late.next(101, 0.3)!, 115, 1e-9);
  const early = noted([10, 25, 40, 55, 70, 99.8]);
  // An earlier onset moves it.
  assertAlmostEquals(early.next(101, 0.3)!, 114.8, 1e-9);
});

Deno.test("recurrence: three onsets on a tight beat are trusted for one period until confirmed (v30b)", () => {
  const r = noted([12, 27, 42, 57.05]);
  assertAlmostEquals(r.periodS, 15, 0.05);
  assertAlmostEquals(r.next(58, 0.3)!, 72, 0.1);
  assertEquals(r.next(73, 0.3), undefined, "unconfirmed, it ends after one period");
  // An onset on that beat confirms it: the period holds as one found from four fits.
  r.note(72);
  assertAlmostEquals(r.next(73, 0.3)!, 87, 0.1);
  assertAlmostEquals(r.next(88, 0.3)!, 102, 0.1);
});

Deno.test("recurrence: an unconfirmed quick trust lapses; a collapse off its beat does not extend it", () => {
  const r = noted([12, 27, 42, 57.05, 64]);
  assertEquals(r.next(73, 0.3), undefined);
  // Three onsets with more than 0.15 s of jitter are not trusted quickly.
  assert(Number.isNaN(noted([12, 27.2, 42, 57.1]).periodS));
});

Deno.test("recurrence: an onset up to twice the tolerance early moves the beat; as late does not (v30c)", () => {
  // A collapse that a pre-emption answered can only be dated late: one dated 0.5 s early shows
  // that the beat itself is late.
  const early = noted([10, 25, 40, 55, 70, 84.5]);
  assertAlmostEquals(early.next(86, 0.3)!, 99.5, 1e-9);
  const late = noted([10, 25, 40, 55, 70, 85.5]);
  assertAlmostEquals(late.next(86, 0.3)!, 100, 1e-9);
  // Further than twice the tolerance early, it is a collapse of another kind.
  const other = noted([10, 25, 40, 55, 70, 84.3]);
  assertAlmostEquals(other.next(86, 0.3)!, 100, 1e-9);
});
