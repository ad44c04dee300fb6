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

/** Cuts of one direction. */
export interface CutCount {
  /** Cuts under load. */
  all: number;
  /** Of those, cuts with no queue on our link over the second before. */
  noQueue: number;
}

/** Follows both directions' shaper rates and the link's added delay, one step at a time. */
export class CutAudit {
  readonly #window: Float32Array;
  #k = 0;
  readonly #limitMs: number;
  /** Each direction's shaper rate at the previous step, kbit/s. */
  #lastDown = NaN;
  #lastUp = NaN;
  /** Cuts so far. */
  readonly down: CutCount = { all: 0, noQueue: 0 };
  /** Cuts so far. */
  readonly up: CutCount = { all: 0, noQueue: 0 };

  /** `thresholdMs`: the smaller delay threshold; `stepS`: the simulation step. */
  constructor(options: { thresholdMs: number; stepS: number }) {
    this.#window = new Float32Array(Math.max(1, Math.round(NO_QUEUE_WINDOW_S / options.stepS)));
    this.#window.fill(Infinity);
    this.#limitMs = NO_QUEUE_SHARE * options.thresholdMs;
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
    this.#window[this.#k++ % this.#window.length] = delayMs.down + delayMs.up;
    // Plain comparisons, no object per direction: this runs in every 10 ms step.
    if (loaded.down && rates.down < (1 - CUT_FRACTION) * this.#lastDown) this.#count(this.down);
    if (loaded.up && rates.up < (1 - CUT_FRACTION) * this.#lastUp) this.#count(this.up);
    this.#lastDown = rates.down;
    this.#lastUp = rates.up;
  }

  /** One cut under load: also a no-queue one when the window's largest delay is small. */
  #count(c: CutCount): void {
    c.all++;
    let worst = 0;
    for (let i = 0; i < this.#window.length; i++) worst = Math.max(worst, this.#window[i]);
    if (worst < this.#limitMs) c.noQueue++;
  }
}
