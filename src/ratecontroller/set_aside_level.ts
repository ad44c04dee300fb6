/**
 * The level remembered through a deep dip, set aside at the return's overshoot (v89,
 * docs/controllers.md). After a deep dip (v32's memory, deep_dip.ts) the return climbs fast toward
 * the level the direction had before the dip, and a cut soon after keeps that level: the cuts in a
 * dip measure the dip. But once the return has passed the capacity back and been cut for it (an
 * overshoot cut: the rate had risen past the last cut's level within the recall time), the cut
 * measures the capacity after the dip; returning again toward the older level runs into it a second
 * time, which restarts the drop's recovery (`bursty` lte: the runs' worst recoveries past the dip's
 * end). Such a cut makes its estimate the remembered level, as it does outside the memory, and the
 * older level is set aside; it comes back once the direction has gone `restoreS` without a queue
 * since that cut (lte's capacity often returns further a little later: forgetting it for good cost
 * lte's utilisation a point, v89cn).
 */

/** Tunables of the rule. */
export interface SetAsideParams {
  /** The set-aside level comes back after this long without a queue, s; 0: the rule is off. */
  restoreS: number;
}

/** The measured default (docs/controllers.md, "v89": 1 s changed nothing, 2–4 s about alike). */
export const SET_ASIDE_DEFAULTS: Readonly<SetAsideParams> = {
  restoreS: 2,
};

/** One direction's level set aside after a deep dip. */
export class SetAsideLevel {
  readonly params: Readonly<SetAsideParams>;
  /** The level set aside (0: none), kbit/s. */
  #level = 0;
  /** When it was last set aside (s). */
  #atS = -Infinity;

  /** `params` override the measured default. */
  constructor(params: Partial<SetAsideParams> = {}) {
    this.params = { ...SET_ASIDE_DEFAULTS, ...params };
  }

  /** Whether the rule is on. */
  get enabled(): boolean {
    return this.params.restoreS > 0;
  }

  /**
   * An overshoot cut within the deep-dip memory: `level` (the remembered level it replaces) is set
   * aside, the higher of it and one already set aside.
   */
  setAside(now: number, level: number): void {
    if (!this.enabled) return;
    this.#level = Math.max(this.#level, level);
    this.#atS = now;
  }

  /**
   * In a decision that may raise the rate: the level set aside, once `restoreS` have passed since
   * it was set aside and since `lastQueueS`; given back once (undefined otherwise).
   */
  restore(now: number, lastQueueS: number): number | undefined {
    if (!(this.#level > 0) || now - Math.max(lastQueueS, this.#atS) <= this.params.restoreS) {
      return undefined;
    }
    const level = this.#level;
    this.#level = 0;
    return level;
  }
}
