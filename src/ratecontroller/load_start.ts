/**
 * A load after a pause (v53, docs/controllers.md "v53"). After a pause the estimate and the
 * remembered level are what earlier loads left, often cuts for the other direction's queue: the
 * longest `bursty` loads that never reached 90 % of the capacity started from a level under 0.9 of
 * it in seven of ten (seeds 1–100, lte and starlink), and from there the probe climbs at 1 %/s of
 * that low estimate, doubling every 2 s and restarted by every queue, the other direction's too.
 * The capacity may have moved while the direction was idle (starlink's handovers, lte's drift), so
 * for `windowS` after a load that follows at least `pauseS` of idle decisions the direction probes
 * as far from any known level: in units of max(estimate, base rate), its speed doubling every
 * `doubleS` counted from the load's start, until its own overshoot is cut (a cut as the prober, or
 * with the other direction light). In that window a cut blamed by load (RTT only, both busy, nobody
 * raised into the rise) of a direction under `keepUnder` of its level keeps the remembered level.
 */

/** Tunables (docs/controllers.md measured them over seeds 1–100). */
export interface LoadStartParams {
  /** A load start follows at least this long of idle decisions, s. */
  pauseS: number;
  /** Idle: delivering under this fraction of the minimum rate. */
  idleLoad: number;
  /** The fast probe and the kept level hold this long after the load start, s; 0: off. */
  windowS: number;
  /** The fast probe's speed doubles every this many seconds from the load start. */
  doubleS: number;
  /** A cut blamed by load keeps the remembered level when the rate is under this fraction of it. */
  keepUnder: number;
}

/** The measured defaults. */
export const LOAD_START_DEFAULTS: Readonly<LoadStartParams> = {
  pauseS: 0.5,
  idleLoad: 0.5,
  windowS: 8,
  doubleS: 1,
  keepUnder: 0.9,
};

/** What one decision says about a direction's load. */
export interface LoadObservation {
  /** Under the light-load fraction of its rate. */
  light: boolean;
  /** Delivered kbit/s (the delivered window's largest decision). */
  delivered: number;
  /** The direction's minimum rate, kbit/s. */
  min: number;
}

/** One direction's load starts. */
export class LoadStart {
  /** The parameters in force. */
  readonly params: LoadStartParams;
  /** The controller's start counts as idle and light: nothing was delivered before it. */
  #wasLight = true;
  #wasIdle = true;
  /** The current idle stretch began at (s). */
  #idleFromS: number;
  /** The last idle decision (s). */
  #lastIdleS: number;
  /** The current light stretch began at (s). */
  #lightFromS: number;
  /** The last load start (s; −∞: none). */
  #startS = -Infinity;
  /** Its own overshoot was cut since the load start: the fast probe is over. */
  #ended = false;

  /** `params` override the measured defaults; `startS` is the controller's start. */
  constructor(params: Partial<LoadStartParams> = {}, startS = 0) {
    this.params = { ...LOAD_START_DEFAULTS, ...params };
    this.#idleFromS = this.#lastIdleS = this.#lightFromS = startS;
  }

  /**
   * Notes one decision; a loaded decision right after a light stretch that held at least `pauseS`
   * of idle decisions starts a load.
   */
  observe(now: number, x: LoadObservation): void {
    const idle = x.delivered < this.params.idleLoad * x.min;
    if (idle) {
      if (!this.#wasIdle) this.#idleFromS = now;
      this.#lastIdleS = now;
    }
    this.#wasIdle = idle;
    if (x.light) {
      if (!this.#wasLight) this.#lightFromS = now;
    } else if (
      this.#wasLight && this.#lastIdleS >= this.#lightFromS &&
      this.#lastIdleS - this.#idleFromS >= this.params.pauseS
    ) {
      this.#startS = now;
      this.#ended = false;
    }
    this.#wasLight = x.light;
  }

  /** Whether `now` lies within `windowS` of the last load start. */
  within(now: number): boolean {
    return now - this.#startS < this.params.windowS;
  }

  /** Notes a cut at the direction's own overshoot: the fast probe is over until the next start. */
  ownCut(): void {
    this.#ended = true;
  }

  /**
   * The probe's speed (fraction of its unit per s) and whether its unit is max(estimate, base)
   * now: the fast probe after a load start, or `speed` unchanged with the usual unit.
   */
  probe(now: number, x: { speed: number; perS: number; maxPerS: number }): {
    speed: number;
    far: boolean;
  } {
    if (this.#ended || !this.within(now)) return { speed: x.speed, far: false };
    const since = now - this.#startS;
    const fast = Math.min(x.maxPerS, x.perS * 2 ** (since / this.params.doubleS));
    return { speed: Math.max(x.speed, fast), far: true };
  }
}
