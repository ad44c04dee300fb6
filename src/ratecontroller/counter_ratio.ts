/**
 * The ratio of a direction's byte counter to its shaper's rate, learned while the shaper is the
 * bottleneck (v62; docs/controllers.md, "v62: counters that read low"). A counter that misses
 * bytes the shaper accounts (GSO packets counted once, CAKE's overhead compensation) reads a few
 * % under the rate while the shaper is full; the load thresholds (97 %, 94 %, 90 %) assume it
 * reads the rate. The controller divides what the counter shows by this ratio.
 */

/** Tunables. */
export interface CounterRatioParams {
  /** A decision counts only with its load (raw) at least this (the direction saturated). */
  minLoad: number;
  /** The median tracker's step per counted decision. */
  step: number;
  /** The ratio is never taken below this. */
  floor: number;
  /** A learned ratio at or above this is taken as 1 (a point or two is what the rules allow). */
  exactAbove: number;
  /** The rate must be within this fraction of the last decision's (a steady rate). */
  steady: number;
}

/** The defaults (docs/controllers.md, "v62"). */
export const COUNTER_RATIO_DEFAULTS: Readonly<CounterRatioParams> = {
  minLoad: 0.85,
  step: 0.002,
  floor: 0.9,
  exactAbove: 0.985,
  steady: 0.005,
};

/**
 * A median tracker over the decisions with the direction saturated at a steady rate and no queue
 * in the samples: there the shaper is the bottleneck and delivers its rate, so delivered / rate
 * is what the counter reads of it. A bottleneck upstream shows a queue; a light load is under
 * `minLoad`; a median ignores the few left.
 */
export class CounterRatio {
  readonly #p: CounterRatioParams;
  #q = 1;
  #lastRate = 0;

  constructor(params: Partial<CounterRatioParams> = {}) {
    this.#p = { ...COUNTER_RATIO_DEFAULTS, ...params };
  }

  /** The ratio to divide the counter's reading by (1: reads the rate). */
  get ratio(): number {
    return this.#q >= this.#p.exactAbove ? 1 : this.#q;
  }

  /** One decision: the counter's kbit/s, the rate in force, whether the samples show no queue. */
  observe(x: { thr: number; rate: number; clear: boolean }): void {
    const p = this.#p;
    const steady = Math.abs(x.rate - this.#lastRate) <= p.steady * x.rate;
    this.#lastRate = x.rate;
    if (!steady || !x.clear || !(x.rate > 0)) return;
    const load = x.thr / x.rate;
    if (load < p.minLoad || load > 1 / p.floor) return;
    const q = this.#q + (load > this.#q ? p.step : -p.step);
    this.#q = Math.min(1, Math.max(p.floor, q));
  }
}
