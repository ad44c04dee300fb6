/**
 * The capacity controller's settling after a lasting drop (docs/controllers.md, "Settling after a
 * drop", R1–R19): once a cut has measured a level well below the remembered one, the return does
 * not climb above the measured level until the RTT has shown no queue for a while. A return
 * toward a level that no longer holds (step's drop to half) otherwise overshot the new capacity
 * within the second after the queue had drained and built a second queue as large as the first.
 */

/** Tunables of the rule (docs/controllers.md measured them over seeds 1–100). */
export interface SettleParams {
  /** The return stays at the measured level until no queue has been seen for this long, s; 0: off. */
  clearS: number;
  /** Only when the remembered level is at least this multiple of the estimate the cut measured. */
  gap: number;
  /** Only when the cut's rate lay above this multiple of the minimum rate (a level, not the floor). */
  aboveMin: number;
  /** Only when the direction had been loaded this long before the cut (not a load start's ramp), s. */
  loadedS: number;
}

/** The measured defaults. */
export const SETTLE_DEFAULTS: Readonly<SettleParams> = {
  clearS: 1,
  gap: 1.5,
  aboveMin: 1.05,
  loadedS: 2,
};

/** The part of the capacity controller's per-direction state the rule reads. */
export interface SettleState {
  /** Capacity estimate (the level the last cut measured), kbit/s. */
  cap: number;
  /** The level a return after a dip aims at, kbit/s. */
  recall: number;
  /** Time of the last cut, s. */
  lastCutS: number;
  /** The rate the last cut set, kbit/s. */
  lastCutRate: number;
  /** Time a queue was last seen, s. */
  lastQueueS: number;
  /** Time the direction was last lightly loaded, s. */
  lastLightS: number;
  /** Minimum rate, kbit/s. */
  readonly min: number;
  /**
   * The last cut was a starved cut (capacity.ts, v43f): its measure may be the ACKs' wait, not the
   * link, so the wait applies whatever the gap.
   */
  starvedCut?: boolean;
}

/**
 * Whether the return toward the remembered level must not go above the measured level at `now`:
 * the last cut, made under a load running for `loadedS`, set a rate above the floor and measured
 * a level at most 1 / `gap` of the remembered one (any level after a starved cut, v43f), and a
 * queue was seen less than `clearS` ago.
 * A transient dip (a handover) and a lasting drop look alike until the return probes the old
 * level; the wait makes that probe come after the drop's queue has been gone for `clearS`.
 */
export function settling(d: SettleState, now: number, p: SettleParams): boolean {
  if (!(p.clearS > 0) || d.lastCutS === -Infinity) return false;
  if (now - Math.max(d.lastCutS, d.lastQueueS) >= p.clearS) return false;
  return (d.starvedCut === true || d.recall >= p.gap * d.cap) &&
    d.lastCutRate > p.aboveMin * d.min &&
    d.lastCutS - d.lastLightS >= p.loadedS;
}
