/**
 * Deep dips (v32, docs/controllers.md): a capacity fall below the minimum rate that lasts is a
 * transient of the link (a radio fade, the user's own floor says the link does not live there),
 * not a finding that its level is lower. Once one is confirmed, the level before it is recalled
 * and, for a while, later cuts do not forget it: the return after the dip then aims at the level
 * the link had, instead of probing up from the dip's level.
 */

/** Tunables of the deep-dip memory. */
export interface DeepDipParams {
  /**
   * A cut that wanted to go below the minimum rate is a deep dip once, this long after it, the
   * queue still stands with the rate at its minimum, s (starlink's handover dips, 0.3–0.8 s, end
   * before). 0: the rule is off.
   */
  confirmS: number;
  /** After a confirmed deep dip, cuts do not forget the remembered level for this long, s. */
  memoryS: number;
  /** Cuts closer than this to the previous one belong to one burst; its level is the one before it, s. */
  burstS: number;
}

/** The measured defaults (docs/controllers.md, "v32"). */
export const DEEP_DIP_DEFAULTS: Readonly<DeepDipParams> = {
  confirmS: 1.5,
  memoryS: 20,
  burstS: 1,
};

/** One direction's deep-dip state. */
export class DeepDip {
  readonly #p: DeepDipParams;
  /** The level (estimate or remembered level, the higher) before the current burst of cuts, kbit/s. */
  #burstLevel = 0;
  /** Time of the cut that wanted to go below the minimum, not yet confirmed (s; NaN: none). */
  #candidateS = NaN;
  /** Time of the last confirmed deep dip (s). */
  #confirmedS = -Infinity;

  /** `params` override the measured defaults. */
  constructor(params: Partial<DeepDipParams> = {}) {
    this.#p = { ...DEEP_DIP_DEFAULTS, ...params };
  }

  /**
   * Called at every cut, before it changes the estimate: `level` is the higher of the estimate
   * and the remembered level before it; `belowMin` whether the cut wanted a rate under the
   * minimum (the capacity measured lies below the floor); `predicted` whether the cut lies in a
   * predicted collapse (v28 answers those).
   */
  cut(
    now: number,
    x: { lastCutS: number; level: number; belowMin: boolean; predicted: boolean },
  ): void {
    if (!(this.#p.confirmS > 0)) return;
    if (now - x.lastCutS > this.#p.burstS) this.#burstLevel = x.level;
    if (x.belowMin && !x.predicted && Number.isNaN(this.#candidateS)) this.#candidateS = now;
  }

  /**
   * Called in a decision without a cut: once `confirmS` has passed since the candidate cut, the
   * dip is confirmed if the queue still stands (`queued`) with the rate at its minimum
   * (`atMin`). Returns the level to recall on confirmation, else undefined.
   */
  check(now: number, x: { queued: boolean; atMin: boolean }): number | undefined {
    if (Number.isNaN(this.#candidateS) || now - this.#candidateS < this.#p.confirmS) {
      return undefined;
    }
    if (x.queued && x.atMin) return this.confirmNow(now);
    this.#candidateS = NaN;
    return undefined;
  }

  /** Seconds since the cut that wanted a rate under the minimum, not yet confirmed (NaN: none). */
  candidateAge(now: number): number {
    return now - this.#candidateS;
  }

  /**
   * Confirms the pending candidate at once (v36, drain.ts: a drain batch after it shows that its
   * queue stood until now); returns the level to recall, or undefined when none is pending.
   */
  confirmNow(now: number): number | undefined {
    if (Number.isNaN(this.#candidateS)) return undefined;
    this.#candidateS = NaN;
    this.#confirmedS = now;
    return this.#burstLevel;
  }

  /** Seconds since the last confirmed deep dip (∞: none). */
  sinceConfirmed(now: number): number {
    return now - this.#confirmedS;
  }

  /** Whether a deep dip was confirmed within the last `s` seconds. */
  confirmedWithin(now: number, s: number): boolean {
    return this.sinceConfirmed(now) < s;
  }

  /** Whether a cut now keeps the remembered level: within `memoryS` of a confirmed deep dip. */
  keepsMemory(now: number): boolean {
    return now - this.#confirmedS < this.#p.memoryS;
  }
}
