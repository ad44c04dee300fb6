/**
 * The upload's ceiling after its own overshoot (v45u, docs/controllers.md "v45u"). A cut of the
 * upload that came while its rate was above the level its last cut measured (the return toward a
 * remembered level, or the probe beyond it) or at the first climb after a load start (toward an
 * estimate nobody measured) has found the link's rate: for a while the return climbs no higher
 * than just under it, and only the gentle probe goes beyond. The return toward the remembered
 * level (100 %/s of half of it, v22) otherwise crossed the capacity again within a second, every
 * ~2 s on `lte` after a deep dip, and each such queue held the download's ACKs.
 *
 * v45w: only a cut that measured a real excess notes a ceiling (one whose estimate is within a few
 * per cent of the rate ran no queue of the upload's own worth capping, most often the download's
 * queue blamed by RTT), and the ceiling follows the upload up: what it delivers while the RTT is
 * clear fits, so the most of that over the last second raises the ceiling in place of a release.
 */
import { TimedMax } from "./timed_max.ts";

/** Tunables of the rule (docs/controllers.md, "v45u", measured them over seeds 1–100). */
export interface UploadCeilingParams {
  /** The ceiling holds this long after the cut that measured it, s; 0: the rule is off. */
  keepS: number;
  /** Cuts within this long of the one that measured the ceiling measure the drain: not kept, s. */
  burstS: number;
  /** The upload delivering this many times the ceiling, the capacity has grown: it goes. */
  pass: number;
  /** A cut with the rate above this multiple of the level the last cut measured is an overshoot. */
  above: number;
  /** A cut this long after a load start is the first climb's overshoot, s. */
  startS: number;
  /**
   * ... if the light load before that start lasted at least this long, s: not a dip's trough, and
   * not a short pause, after which the climb goes back to a level just measured (v45u: 1 s cost
   * `bursty` step and cable-evening 0.3–0.4 points of utilisation).
   */
  idleS: number;
  /** ... and the rate had climbed to this multiple of the known level (not a cut far under it). */
  startNear: number;
  /**
   * Only a cut whose estimate is at most this multiple of the rate at the cut measured an excess
   * worth a ceiling (v45w; 1: any).
   */
  excess: number;
  /**
   * The ceiling rises to the most the upload delivered with the RTT clear over this long, s (v45w;
   * 0: it stays at the cut's measure).
   */
  followS: number;
}

/** The measured defaults. */
export const UPLOAD_CEILING_DEFAULTS: Readonly<UploadCeilingParams> = {
  keepS: 5,
  burstS: 1,
  pass: 1.03,
  above: 1.02,
  startS: 5,
  idleS: 5,
  startNear: 0.8,
  excess: 0.96,
  followS: 1,
};

/** What the rule needs to know about an upload cut. */
export interface CeilingCut {
  /** When, s (the controller's monotonic clock). */
  now: number;
  /** The upload's rate before the cut (the controller's own), kbit/s. */
  cur: number;
  /** The level the previous cut measured, times the cut margin: where the return is known to fit, kbit/s. */
  known: number;
  /** The capacity this cut measured, kbit/s. */
  estimate: number;
}

/** The upload's ceiling: the capacity its last own overshoot measured. */
export class UploadCeiling {
  /** The rule's tunables in force. */
  readonly p: UploadCeilingParams;
  /** The ceiling, kbit/s (NaN: none). */
  #kbit = NaN;
  /** When it was measured, s. */
  #atS = -Infinity;
  /** When the last light-load period began, and when it was last seen, s. */
  #lightFromS = -Infinity;
  #lightS = -Infinity;
  /** The upload's delivery in the decisions with the RTT clear within `followS`, kbit/s. */
  readonly #clearDelivered = new TimedMax();

  /**
   * `params` override the measured defaults; `startS`: the controller's start, taken as the end of
   * a long light load (the first load's climb is a load start's).
   */
  constructor(params: Partial<UploadCeilingParams> = {}, startS = 0) {
    this.p = { ...UPLOAD_CEILING_DEFAULTS, ...params };
    this.#lightS = startS;
  }

  /**
   * Called in every decision with the upload lightly loaded (`gapS`: the decision period): tracks
   * how long that light period has lasted.
   */
  light(now: number, gapS: number): void {
    if (now - this.#lightS > 1.5 * gapS) this.#lightFromS = now;
    this.#lightS = now;
  }

  /**
   * Called at an upload cut that is neither a collapse nor a cut under the minimum rate: an
   * overshoot (the rate above `above` × the known level, or the first climb within `startS` of a
   * load start after `idleS` of light load) that measured an excess (the estimate at most
   * `excess` × the rate) notes the ceiling, unless one was noted within `burstS` (the burst's
   * later cuts measure the drain, not the level).
   */
  cut(x: CeilingCut): void {
    const p = this.p;
    if (!(p.keepS > 0)) return;
    const overshoot = x.cur > p.above * x.known ||
      (x.now - this.#lightS < p.startS && x.cur >= p.startNear * x.known &&
        this.#lightS - this.#lightFromS >= p.idleS);
    if (!overshoot || x.estimate > p.excess * x.cur) return;
    if (!Number.isNaN(this.#kbit) && x.now - this.#atS < p.burstS) return;
    this.#kbit = x.estimate;
    this.#atS = x.now;
  }

  /**
   * The highest level the return may aim at now, kbit/s (Infinity: no ceiling): `margin` × the
   * ceiling, until `keepS` has passed or the upload delivers (`thr`) `pass` × the ceiling. Not a
   * pure query: a ceiling past either end is forgotten here (the controller asks once per decision).
   */
  target(now: number, x: { thr: number; margin: number }): number {
    if (Number.isNaN(this.#kbit)) return Infinity;
    if (now - this.#atS > this.p.keepS || x.thr > this.p.pass * this.#kbit) {
      this.#kbit = NaN;
      return Infinity;
    }
    return this.#kbit * x.margin;
  }

  /**
   * Called in every RTT-only decision with the upload's delivery (`thr`, kbit/s) and whether every
   * reflector's RTT was clear: with a ceiling in force, the most delivered at a clear RTT within
   * `followS` raises it (v45w).
   */
  observe(now: number, x: { clear: boolean; thr: number }): void {
    const window = this.#clearDelivered;
    if (Number.isNaN(this.#kbit) || !(this.p.followS > 0)) {
      window.clear();
      return;
    }
    if (x.clear) window.push(now, x.thr, this.p.followS);
    this.#kbit = Math.max(this.#kbit, window.maxSince(now - this.p.followS));
  }

  /** Forgets the ceiling (light load; a deep dip confirmed: the level before it is recalled). */
  clear(): void {
    this.#kbit = NaN;
    this.#clearDelivered.clear();
  }
}
