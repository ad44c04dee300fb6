/**
 * A dip's level found twice (v85, docs/controllers.md). Inside a fade that lasts (lte's dips of 1–4
 * s at 0.1–0.3 of the level), a cut drains the queue, the return then climbs toward the level the
 * direction had before the dip (v32's memory) and runs into the dip again: the delay goes under the
 * threshold and back over it within a second, which restarts the drop's recovery. v75's overshoot
 * test misses these cuts under `bursty`: they fall in a load's first seconds (v53's window), or
 * are capped at half the rate, or (the upload) their estimate is taken down by the queue's growth
 * below the level the link delivered. Here a cut made after the rate had risen again since the
 * previous cut, whose decision delivered about what the last cut limited by the link delivered
 * (within `ratio` either way), has found the same level twice; if that level lies under `under` of
 * the one the direction had before the first cut at it (a dip, not cycles at the capacity), the
 * return after it slows near that level (near_return.ts).
 */

/** Tunables of the rule. */
export interface RepeatedLevelParams {
  /** Two deliveries within this ratio of each other (either way) are one level; 0: the rule is off. */
  ratio: number;
  /**
   * Only a level under this fraction of the one the direction had before the first cut at it (the
   * higher of its estimate and remembered level): a dip, not cycles at the capacity (a load's
   * first cuts at it, v53, or an evening's congested level).
   */
  under: number;
}

/** The measured defaults (docs/controllers.md, "v85"). */
export const REPEATED_LEVEL_DEFAULTS: Readonly<RepeatedLevelParams> = {
  ratio: 1.3,
  under: 0.5,
};

/** What one cut tells the rule. */
export interface LevelCut {
  /** What the cut's decision delivered, at most the rate in force, kbit/s. */
  delivered: number;
  /** It delivered less than the rate in force (`upstreamLoad`): the link limited it. */
  linkLimited: boolean;
  /** The rate had risen since the previous cut, within the recall time. */
  rose: boolean;
  /** The higher of the estimate and the remembered level before this cut, kbit/s. */
  before: number;
}

/** One direction's watch for a level found twice. */
export class RepeatedLevel {
  readonly params: Readonly<RepeatedLevelParams>;
  /** What the last cut limited by the link delivered (0: none yet), kbit/s. */
  #level = 0;
  /** The level the direction had before the first cut at `#level`, kbit/s. */
  #above = 0;

  /** `params` override the measured defaults. */
  constructor(params: Partial<RepeatedLevelParams> = {}) {
    this.params = { ...REPEATED_LEVEL_DEFAULTS, ...params };
  }

  /**
   * Called at every cut, before it changes the estimate: returns the level the return after it
   * should slow near (what this cut delivered) when the cut found the last link-limited cut's
   * level again, else undefined.
   */
  cut(x: LevelCut): number | undefined {
    const ratio = this.params.ratio;
    if (!(ratio > 0)) return undefined;
    const same = this.#level > 0 && x.delivered <= ratio * this.#level &&
      x.delivered * ratio >= this.#level;
    if (x.linkLimited && !same) this.#above = x.before;
    if (x.linkLimited) this.#level = x.delivered;
    return same && x.rose && x.delivered <= this.params.under * this.#above
      ? x.delivered
      : undefined;
  }
}
