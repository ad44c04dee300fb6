/**
 * The start, before anything was measured (v47, docs/controllers.md "v47"). The estimate a
 * direction starts from is the configured base rate, which nobody measured: on `lte` the capacity
 * at the start lies 3–18 % above it on about half the seeds, and the download had to reach 90 % of
 * it by the gentle probe (1 % of the estimate per second, doubling every 2 s without a queue) after
 * waiting for its probing turn, which the upload held first (RTT only, both busy). Far from any
 * known capacity the probe may be fast ("probe gently near the last known capacity and fast far from
 * it"): until the direction has seen its first queue (a rise it is suspected of, or a cut), it
 * probes at least at `perS`. The download only: its overshoot shows in its counters within one
 * decision (our shaper sits behind its bottleneck and delivers less than its rate), while the
 * upload's shows only in the RTT and, with RTT only, holds the download's ACKs (v43). For the same
 * reason the download holds the first probing turn (`downloadFirst`).
 */

/** Tunables (docs/controllers.md measured them over seeds 1–100). */
export interface StartProbeParams {
  /** Lowest probe speed before the first queue, fraction of the estimate per s; 0: off. */
  perS: { dl: number; ul: number };
  /** RTT only, both busy: the download holds the first probing turn (else the upload). */
  downloadFirst: boolean;
}

/** The measured defaults. */
export const START_PROBE_DEFAULTS: Readonly<StartProbeParams> = {
  perS: { dl: 0.15, ul: 0 },
  downloadFirst: true,
};

/** What the start probe reads of a direction. */
export interface StartProbeState {
  /** Its name. */
  readonly name: "dl" | "ul";
  /** When it last saw a queue (s); the controller's start until the first one. */
  readonly lastQueueS: number;
  /** When it was last cut (s; −∞: never). */
  readonly lastCutS: number;
}

/** The start probe of one controller (both directions). */
export class StartProbe {
  /** The parameters in force. */
  readonly params: StartProbeParams;
  readonly #startS: number;

  /** `startS`: the controller's start, when each direction's queue time was set. */
  constructor(params: Partial<StartProbeParams> = {}, startS = 0) {
    this.params = { ...START_PROBE_DEFAULTS, ...params };
    this.#startS = startS;
  }

  /** Whether `d` has not seen a queue since the start: its estimate is the unmeasured base rate. */
  unmeasured(d: StartProbeState): boolean {
    return d.lastCutS === -Infinity && d.lastQueueS <= this.#startS;
  }

  /** The probe speed of `d` (fraction of the estimate per s): at least `perS` while unmeasured. */
  speed(d: StartProbeState, speed: number): number {
    const floor = this.params.perS[d.name];
    return floor > 0 && this.unmeasured(d) ? Math.max(speed, floor) : speed;
  }
}
