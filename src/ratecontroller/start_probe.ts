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
 *
 * Still unmeasured, a download whose delivery grows across decisions while under `highLoad` of its
 * rate is in TCP slow start beyond one decision (a path whose BDP is hundreds of packets: a gigabit
 * link), and that slow start is about to end at the rate in force, the light-load wait at 0.6 of
 * the estimate, where HyStart leaves it; from there CUBIC regrows its windows for seconds. So it
 * jumps to its target at once (`jump`; v60, docs/controllers.md "v60"), once per load start and
 * only while the RTT shows no queue, and the slow start ends there instead.
 */

/** Tunables (docs/controllers.md measured them over seeds 1–100). */
export interface StartProbeParams {
  /** Lowest probe speed before the first queue, fraction of the estimate per s; 0: off. */
  perS: { dl: number; ul: number };
  /** RTT only, both busy: the download holds the first probing turn (else the upload). */
  downloadFirst: boolean;
  /** An unmeasured download still in its slow start under its target jumps to it (v60). */
  jump: boolean;
}

/** The measured defaults. */
export const START_PROBE_DEFAULTS: Readonly<StartProbeParams> = {
  perS: { dl: 0.15, ul: 0 },
  downloadFirst: true,
  jump: true,
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

/** What the jump (v60) reads of a direction besides {@link StartProbeState}. */
export interface StartJumpState extends StartProbeState {
  /** When it was last lightly loaded (s): the current load started after. */
  readonly lastLightS: number;
  /** When it last jumped (s; −∞: never). */
  readonly jumpS: number;
}

/** One decision of a direction, for the jump (v60). */
export interface StartJumpInput {
  /** Its delivery grew over the delivered window shortly after a load start (slow start). */
  ramping: boolean;
  /** Delivered / the rate in force. */
  load: number;
  /** The controller's light load fraction. */
  lightLoad: number;
  /** The controller's high load fraction. */
  highLoad: number;
  /** The RTT shows a queue (2 reflectors above the clear level). */
  queue: boolean;
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

  /** Whether `d` jumps to its target now: unmeasured, in a slow start that spans decisions. */
  jumps(d: StartJumpState, x: StartJumpInput): boolean {
    return this.params.jump && d.name === "dl" && this.unmeasured(d) && x.ramping && !x.queue &&
      d.jumpS < d.lastLightS && x.load >= x.lightLoad && x.load < x.highLoad;
  }

  /** The probe speed of `d` (fraction of the estimate per s): at least `perS` while unmeasured. */
  speed(d: StartProbeState, speed: number): number {
    const floor = this.params.perS[d.name];
    return floor > 0 && this.unmeasured(d) ? Math.max(speed, floor) : speed;
  }
}
