/**
 * The unit the capacity controller's probe climbs in (docs/controllers.md, "Probing near the
 * minimum rate" (v26) and "v49"). The probe beyond the estimate moves by a fraction of that unit per
 * second (1 %/s, doubling every 2 s without a queue). Its unit is the estimate, except far under
 * the link's scale, where an estimate that cuts took down would climb back at 1 %/s of itself:
 * there the unit is the base rate.
 *
 * v49p: with an RTT-only pinger and both directions busy, "far under" begins higher. There every
 * queue of the other direction, blamed on both, restarts the probe's acceleration, and each
 * direction probes only in its turn; on `lte` a direction cut down to a third of its capacity stayed
 * there for a minute and more (seed 2's upload at 2.0–2.7 of 6.4–9.6 Mbit/s from 38 to 125 s).
 */

/** Tunables of the probe's unit (docs/controllers.md measured them over seeds 1–100). */
export interface ProbeUnitParams {
  /**
   * Below this multiple of the minimum rate the unit is max(estimate, base rate): an estimate at
   * the minimum would otherwise climb at 1 %/s of the minimum (v26).
   */
  lowProbe: number;
  /**
   * The same limit with an RTT-only pinger and both directions busy (v49p; at least `lowProbe`),
   * except in the search for the level after a predicted collapse, which has its own speed
   * (`discoverPerS`, v29b): in base units there it overshot starlink's upload (p95 +1.5 ms).
   */
  lowProbeShared: number;
}

/** The direction's levels the unit depends on (the controller passes its direction as is). */
export interface ProbeLevels {
  /** Its capacity estimate, kbit/s. */
  cap: number;
  /** Its base rate, kbit/s. */
  base: number;
  /** Its minimum rate, kbit/s. */
  min: number;
}

/**
 * What else the unit depends on in one decision (the controller passes its decision's input as
 * is: no object is built per decision, docs/footprint.md "v57").
 */
export interface ProbeUnitInput {
  /** The direction's rate, kbit/s. */
  cur: number;
  /** RTT only with both directions busy: one probes at a time (capacity.ts, the turn). */
  shared: boolean;
  /** The search for the level after a predicted collapse (v29b) is on. */
  discovering: boolean;
}

/**
 * The unit far from any known level, kbit/s: max(estimate, base rate). Far under the link's scale
 * (below) and in a load's first seconds after a pause (v53, load_start.ts).
 */
export function farUnit(d: Pick<ProbeLevels, "cap" | "base">): number {
  return Math.max(d.cap, d.base);
}

/** The unit the probe climbs in this decision, kbit/s. */
export function probeUnit(d: ProbeLevels, x: ProbeUnitInput, p: ProbeUnitParams): number {
  const low = x.shared && !x.discovering ? Math.max(p.lowProbe, p.lowProbeShared) : p.lowProbe;
  return x.cur < low * d.min ? farUnit(d) : d.cap;
}
