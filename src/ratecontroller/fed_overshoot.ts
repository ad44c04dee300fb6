/**
 * A return whose overshoot our own shaper's backlog fed (v59, docs/controllers.md). At 1–2
 * Mbit/s the bulk flows' minimum windows keep 64–130 ms in our download shaper; a rate raised above
 * the capacity releases that backlog into the ISP's FIFO, and while it moves the counters show the
 * whole raised rate delivered. A burst of cuts after a rise that sees the queue above the threshold
 * while its decision delivered (nearly) all of a rate still above the level the burst started from
 * is such an overshoot. A second one within `repeatS` of the previous says that on this link every
 * fast climb past the capacity costs that backlog as queue, so for `offS` the download does not
 * probe at v29b's discovery speed after predicted collapses (the ordinary probe and the return stay
 * as they are). At the native rates the flows' backlog is the AQM's few milliseconds: the pattern
 * is rare there and seldom repeats.
 */

/** Tunables of the rule. */
export interface FedOvershootParams {
  /** After a fed overshoot that repeats one, no discovery speed for this long, s; 0: the rule is off. */
  offS: number;
  /** A fed overshoot repeats one seen less than this long before it, s. */
  repeatS: number;
  /** Cuts closer than this to the previous one belong to one burst (as deep_dip.ts's), s. */
  burstS: number;
}

/** The measured defaults (docs/controllers.md, "v59"). */
export const FED_OVERSHOOT_DEFAULTS: Readonly<FedOvershootParams> = {
  offS: 20,
  repeatS: 60,
  burstS: 1,
};

/** What one cut tells the rule. */
export interface FedCut {
  /**
   * The rate had risen since the previous cut (within the recall time), past the level that cut
   * measured, and this cut is no collapse: it may be a return's overshoot.
   */
  rose: boolean;
  /** The level the previous cut measured (the estimate before this cut), kbit/s. */
  from: number;
  /** Seconds since the previous cut. */
  sinceLastS: number;
  /** The cut's queue (second-largest sample), ms. */
  queueMs: number;
  /** The user's delay threshold, ms. */
  thresholdMs: number;
  /** The cut's decision delivered (nearly) all of the rate in force. */
  full: boolean;
  /** The controller's own rate before the cut, kbit/s. */
  cur: number;
}

/** The download's watch for a fed overshoot. */
export class FedOvershoot {
  readonly params: Readonly<FedOvershootParams>;
  /** The level the watched burst started from (NaN: no burst watched), kbit/s. */
  #from = NaN;
  /** Time the last fed overshoot was seen (s). */
  #seenS = -Infinity;
  /** Time the last fed overshoot that repeated one was seen: the discovery speed is off from then (s). */
  #repeatedS = -Infinity;

  /** `params` override the measured defaults. */
  constructor(params: Partial<FedOvershootParams> = {}) {
    this.params = { ...FED_OVERSHOOT_DEFAULTS, ...params };
  }

  /** Called at every cut of the direction, before the cut changes its estimate. */
  cut(now: number, x: FedCut): void {
    if (!(this.params.offS > 0)) return;
    if (x.rose) this.#from = x.from;
    else if (x.sinceLastS > this.params.burstS) this.#from = NaN;
    if (
      !Number.isNaN(this.#from) && x.queueMs > x.thresholdMs && x.full && x.cur > this.#from
    ) {
      if (now - this.#seenS < this.params.repeatS) this.#repeatedS = now;
      this.#seenS = now;
      this.#from = NaN;
    }
  }

  /** Whether v29b's discovery speed is off at `now`. */
  blocksDiscovery(now: number): boolean {
    return now - this.#repeatedS < this.params.offS;
  }
}
