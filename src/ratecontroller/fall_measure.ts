/**
 * The measure of a fall that later cuts refine (v74a, docs/controllers.md "v74"). After a fall
 * that the counters measured (an upstream cut, capacity_upstream.ts) the download probes fast back
 * toward the level before it once it delivers clearly more than that measure: a step up. The fall
 * used to end at any later cut that found the capacity `pass` times that measure, taken as the
 * capacity come back. But the fall's first measure is taken in its transient (the counters read a
 * few per cent low at high rates, docs/e2e.md), and at 200 Mbit/s on the e2e testbed a cut in the
 * dip itself found 10 % more than it: the fall ended with the capacity still down, and after the
 * step up the download climbed back at the general probe (79 to 161 Mbit/s in 10 s). Here a later
 * cut that finds more than the measure but still well under the level before the fall (under
 * `fastUpTo` of it) refines the measure instead; only one near that level ends the fall.
 */

/** What the rule reads and sets of a direction (capacity_upstream.ts's state). */
export interface FallMeasureState {
  /** The capacity the last cut measured, kbit/s. */
  readonly cutCap: number;
  /** What the fall's cuts measured, kbit/s (0: no fall open). */
  fallCap: number;
  /** The estimate before the fall, kbit/s. */
  readonly fallFrom: number;
}

/** The thresholds (capacity_upstream.ts's `pass` and `fastUpTo`) and the switch. */
export interface FallMeasureParams {
  /** A cut finding more than this many times the measure found the capacity higher. */
  pass: number;
  /** The fall ends at a cut that finds at least this share of the level before it. */
  fastUpTo: number;
  /** Off: any cut above `pass` times the measure ends the fall (before v74a). */
  refine: boolean;
}

/**
 * Called before each probe decision while a fall may be open: ends the fall, refines its measure,
 * or leaves it as it is.
 */
export function updateFall(s: FallMeasureState, p: FallMeasureParams): void {
  if (!(s.fallCap > 0) || !(s.cutCap > p.pass * s.fallCap)) return;
  s.fallCap = p.refine && s.cutCap < p.fastUpTo * s.fallFrom ? s.cutCap : 0;
}
