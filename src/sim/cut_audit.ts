/**
 * Counts the controller's cuts and those taken with no queue on our link, which the simulator
 * knows and the daemon does not (docs/simulator.md, "Faulty reflectors"): what a faulty
 * reflector costs shows as cuts on nothing.
 */

/** A cut: the shaper rate fell by at least this fraction in one step while loaded. */
export const CUT_FRACTION = 0.03;
/** No queue: the link's added delay (both directions) stayed under this share of the threshold… */
export const NO_QUEUE_SHARE = 0.25;
/** …over this long before the cut, s (the probes that decide a cut were sent within it). */
export const NO_QUEUE_WINDOW_S = 1;
/**
 * The other direction's queue: with a queue on our link, the cut direction's own largest delay over
 * the same window stayed under this share of the link's largest (docs/controllers.md, "v64").
 */
export const OTHER_QUEUE_SHARE = 0.4;
/** A run's first seconds, before the reflectors are judged (docs/controllers.md, "v70"). */
export const EARLY_S = 30;

/** Cuts of one direction. */
export interface CutCount {
  /** Cuts under load. */
  all: number;
  /** Of those, cuts with no queue on our link over the second before. */
  noQueue: number;
  /** Of the others, cuts on the other direction's queue (`OTHER_QUEUE_SHARE`). */
  otherQueue: number;
  /** Of the no-queue cuts, those in the run's first `EARLY_S`. */
  noQueueEarly: number;
}

/** Follows both directions' shaper rates and the link's added delay, one step at a time. */
export class CutAudit {
  /** The added delay of each direction over the last `NO_QUEUE_WINDOW_S`, ms. */
  readonly #down: Float32Array;
  readonly #up: Float32Array;
  #k = 0;
  readonly #limitMs: number;
  /** The steps in `EARLY_S`. */
  readonly #earlySteps: number;
  /** Each direction's shaper rate at the previous step, kbit/s. */
  #lastDown = NaN;
  #lastUp = NaN;
  /** Cuts so far. */
  readonly down: CutCount = { all: 0, noQueue: 0, otherQueue: 0, noQueueEarly: 0 };
  /** Cuts so far. */
  readonly up: CutCount = { all: 0, noQueue: 0, otherQueue: 0, noQueueEarly: 0 };

  /** `thresholdMs`: the smaller delay threshold; `stepS`: the simulation step. */
  constructor(options: { thresholdMs: number; stepS: number }) {
    const n = Math.max(1, Math.round(NO_QUEUE_WINDOW_S / options.stepS));
    this.#down = new Float32Array(n).fill(Infinity);
    this.#up = new Float32Array(n).fill(Infinity);
    this.#limitMs = NO_QUEUE_SHARE * options.thresholdMs;
    this.#earlySteps = Math.round(EARLY_S / options.stepS);
  }

  /**
   * Records one step: each direction's shaper rate (kbit/s) and whether it is loaded, and the
   * added delay a sparse packet sees in each direction (ms).
   */
  record(
    rates: { down: number; up: number },
    loaded: { down: boolean; up: boolean },
    delayMs: { down: number; up: number },
  ): void {
    const k = this.#k++ % this.#down.length;
    this.#down[k] = delayMs.down;
    this.#up[k] = delayMs.up;
    // Plain comparisons, no object per direction: this runs in every 10 ms step.
    if (loaded.down && rates.down < (1 - CUT_FRACTION) * this.#lastDown) {
      this.#count(this.down, this.#down);
    }
    if (loaded.up && rates.up < (1 - CUT_FRACTION) * this.#lastUp) this.#count(this.up, this.#up);
    this.#lastDown = rates.down;
    this.#lastUp = rates.up;
  }

  /**
   * One cut under load of the direction whose delays are `own`: also a no-queue one when the
   * link's largest delay over the window is small, or one on the other direction's queue when its
   * own stayed under `OTHER_QUEUE_SHARE` of the link's.
   */
  #count(c: CutCount, own: Float32Array): void {
    c.all++;
    let worst = 0, worstOwn = 0;
    for (let i = 0; i < own.length; i++) {
      worst = Math.max(worst, this.#down[i] + this.#up[i]);
      worstOwn = Math.max(worstOwn, own[i]);
    }
    if (worst < this.#limitMs) {
      c.noQueue++;
      if (this.#k <= this.#earlySteps) c.noQueueEarly++;
    } else if (worstOwn < OTHER_QUEUE_SHARE * worst) c.otherQueue++;
  }
}
