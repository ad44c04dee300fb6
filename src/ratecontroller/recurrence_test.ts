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
  assertAlmostEquals(r.next(75, 0.3)!, 72.0 + r.periodS, 1e-9);
  // Within the window after the predicted onset it is still the one predicted.
  assertAlmostEquals(r.next(87.1, 0.3)!, 72.0 + r.periodS, 1e-9);
  assertAlmostEquals(r.next(87.5, 0.3)!, 72.0 + 2 * r.periodS, 1e-9);
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
