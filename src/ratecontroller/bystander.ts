/**
 * The download as a bystander of the upload's overshoot (v45d, docs/controllers.md "v45d"). RTT
 * only, both directions busy: when the upload's probe overshoots, its queue holds the download's
 * ACKs, and the rise (blamed by load once the upload's cut has put its rate back) cuts the download
 * too, at each overshoot, every ~2 s on `lte`. Each such cut used to replace the download's
 * remembered level by its own estimate, and the return climbed back from it with a 0.5 s time
 * constant after a 1 s wait, so the download was ratcheted down to its floor. A download cut
 * within the drain time of the upload's cut, while the download still delivered most of its rate,
 * and soon after it had carried its rate without a queue, is a bystander's cut: it keeps the
 * remembered level, and the return goes back quickly to the most the download delivered without
 * a queue just before.
 */
import { TimedMax } from "./timed_max.ts";

/** Tunables (docs/controllers.md measured them over seeds 1–100). */
export interface BystanderParams {
  /** Off: every download cut is an ordinary one. */
  enabled: boolean;
  /** Only within this long after the upload's cut, s (its queue is still there). */
  afterUploadCutS: number;
  /** Only while the download delivers at least this fraction of its rate (not a collapse). */
  minLoad: number;
  /** What the download delivered without a queue counts for this long, s. */
  peakS: number;
  /**
   * Only when the remembered level is at most this multiple of that peak: a level far above what
   * the download carried lately (from before a drop) is not one to come back to quickly.
   */
  gap: number;
  /** The quick return climbs to this fraction of that peak (the link may have drifted lower). */
  peakFraction: number;
  /** Time constant of the quick return, s. */
  approachS: number;
  /**
   * A download cut delivering under this fraction of that peak (and at least `minLoad` of its rate)
   * is a bystander's too, with or without an upload cut before it: its ACKs wait in the upload's
   * queue (v49s, docs/controllers.md "v49"; 0: off).
   */
  shortfall: number;
}

/** The measured defaults. */
export const BYSTANDER_DEFAULTS: Readonly<BystanderParams> = {
  enabled: true,
  afterUploadCutS: 0.5,
  minLoad: 0.6,
  peakS: 2,
  gap: 3,
  peakFraction: 0.95,
  approachS: 0.15,
  shortfall: 0.85,
};

/** Per-direction memory of what the direction carried without a queue, and of its last cut. */
export class Bystander {
  readonly params: BystanderParams;
  /** Decisions that delivered the whole rate without a queue since the last ordinary cut. */
  readonly #clear = new TimedMax();
  /** The last cut was a bystander's: the return goes quickly up to `#quickTo`. */
  #cut = false;
  #quickTo = 0;

  /** `params` override the measured defaults. */
  constructor(params: Partial<BystanderParams> = {}) {
    this.params = { ...BYSTANDER_DEFAULTS, ...params };
  }

  /** Notes a decision that delivered `kbit`, the whole rate, without a queue. */
  noteClear(now: number, kbit: number): void {
    this.#clear.push(now, kbit, this.params.peakS);
  }

  /** The most delivered without a queue within `peakS`, kbit/s (0: none). */
  peak(now: number): number {
    return this.#clear.maxSince(now - this.params.peakS);
  }

  /**
   * Whether a cut now would be a bystander's: the upload was cut within `afterUploadCutS` or the
   * download delivers under `shortfall` of what it carried without a queue lately (v49s), it
   * delivers at least `minLoad` of its rate, and its remembered level lies within `gap` of what it
   * carried without a queue lately.
   */
  test(
    now: number,
    x: { uploadCutS: number; thr: number; inForce: number; recall: number },
  ): boolean {
    const p = this.params;
    if (!p.enabled) return false;
    if (!(x.inForce > 0 && x.thr >= p.minLoad * x.inForce)) return false;
    const peak = this.peak(now);
    const short = x.thr < p.shortfall * peak;
    if (now - x.uploadCutS > p.afterUploadCutS && !short) return false;
    return peak > 0 && x.recall <= p.gap * peak;
  }

  /**
   * Notes a cut: a bystander's sets the quick return's level from the peak; an ordinary one (not
   * starved either) may have measured a lower level, so what was carried before it no longer
   * counts.
   */
  cut(now: number, x: { bystander: boolean; starved: boolean }): void {
    this.#cut = x.bystander;
    if (x.bystander) this.#quickTo = this.params.peakFraction * this.peak(now);
    else if (!x.starved) this.#clear.clear();
  }

  /** The level the quick return climbs to from `cur` (undefined: the usual return). */
  quickTo(cur: number): number | undefined {
    return this.#cut && cur < this.#quickTo ? this.#quickTo : undefined;
  }
}
