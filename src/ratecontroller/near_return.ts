/**
 * The return after an overshoot cut, slowed near the level that cut measured (v75,
 * docs/controllers.md). An overshoot cut is a cut after the rate had risen past the level the
 * previous cut measured; what its decision delivered is about the capacity it ran into. At 1–2
 * Mbit/s a return at v32's time constant passes that level within a fraction of a second and the
 * queue it builds shows a round trip later: the cut comes late, more cuts follow, and the cycle
 * repeats (v73). Here, for `keepS` after such a cut, the return goes at its own speed up to
 * `below` × that level, then no faster than `perS` × the level per second up to `above` × the
 * level, and at its own speed again beyond (no queue there: the level has risen). A light load
 * forgets the level; a deep dip does not (the return after it is where the rule helps most, v75).
 */

/** Tunables of the rule. */
export interface NearReturnParams {
  /** Fast up to this fraction of the overshoot cut's level; 0: the rule is off. */
  below: number;
  /** Up to this fraction of the level; beyond it the return's own speed again. */
  above: number;
  /** Between the two at most this fraction of the level per second. */
  perS: number;
  /** For this long after the overshoot cut, s. */
  keepS: number;
}

/** The measured defaults (docs/controllers.md, "v75"). */
export const NEAR_RETURN_DEFAULTS: Readonly<NearReturnParams> = {
  below: 0.9,
  above: 1.05,
  perS: 0.1,
  keepS: 5,
};

/** One direction's return after its last overshoot cut. */
export class NearReturn {
  readonly params: Readonly<NearReturnParams>;
  /** The level the last overshoot cut measured (NaN: none or forgotten), kbit/s. */
  #level = NaN;
  /** Time of that cut (s). */
  #atS = -Infinity;

  /** `params` override the measured defaults. */
  constructor(params: Partial<NearReturnParams> = {}) {
    this.params = { ...NEAR_RETURN_DEFAULTS, ...params };
  }

  /**
   * Called at every cut: `overshoot` when the rate had risen past the level the previous cut
   * measured, `level` what this cut measured (kbit/s).
   */
  cut(now: number, x: { overshoot: boolean; level: number }): void {
    if (!x.overshoot || !(this.params.below > 0)) return;
    this.#level = x.level;
    this.#atS = now;
  }

  /** A light load: the level is forgotten. */
  forget(): void {
    this.#level = NaN;
  }

  /** The part of a return's `step` (kbit/s, from `cur`) that this decision of `dt` s may take. */
  limit(now: number, x: { cur: number; step: number; dt: number }): number {
    const p = this.params;
    if (Number.isNaN(this.#level) || now - this.#atS > p.keepS) return x.step;
    const knee = p.below * this.#level;
    if (x.cur + x.step <= knee || x.cur >= p.above * this.#level) return x.step;
    return Math.max(knee - x.cur, Math.min(x.step, p.perS * this.#level * x.dt));
  }
}
