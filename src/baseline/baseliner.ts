/**
 * The baseliner (docs/algorithm.md §4): per reflector a slow ("baseline") and a fast ("recent")
 * EWMA of the up and down one-way delay, written into the shared `OwdState`. Pure: the sample
 * carries its (injected, monotonic) receive time; no clock or I/O here.
 */
import { stageLogger } from "../log/mod.ts";
import type { OwdEntry, OwdState, ReselectRequester } from "../control/ports.ts";

const log = stageLogger("baseline");

/** EWMA factor that halves a step response after `halfLifeS` with one sample per `tickS`. */
export function ewmaFactor(tickS: number, halfLifeS: number): number {
  return Math.exp(Math.log(0.5) / (halfLifeS / tickS));
}

/** Gap after which a reflector's EWMAs restart from its next sample, s (upstream's). */
export const STALE_GAP_S = 30;

/** One sample for the baseliner (a subset of `PingReply`). */
export interface OwdSample {
  /** Reflector IP. */
  reflector: string;
  /** Upload OWD, ms. */
  upMs: number;
  /** Download OWD, ms. */
  downMs: number;
  /** Monotonic receive time, s. */
  receiveTimeS: number;
}

/** What the baseliner did with a sample. */
export type SampleOutcome =
  | "created"
  | "updated"
  | "reset-stale"
  | "reset-rollover"
  | "outlier";

/** Tunables of the baseliner; defaults are upstream's constants (docs/algorithm.md §1). */
export interface BaselinerOptions {
  /** Ping period per reflector, s (setting `tick_interval`). Default 0.5. */
  tickS?: number;
  /** Slow EWMA half-life, s. Default 135. */
  slowHalfLifeS?: number;
  /** Fast EWMA half-life, s. Default 0.4. */
  fastHalfLifeS?: number;
  /** Gap after which a reflector's EWMAs restart from the sample, s. Default 30. */
  staleGapS?: number;
  /** A sample this much above the baseline (ms, either direction) is an outlier. Default 5000. */
  outlierMs?: number;
  /** How far back an outlier's reflector is marked (Lua: t − 60 s). Default 60. */
  staleMarkS?: number;
  /**
   * cake-autorate's rollover rule: when |Δup| + |Δdown| against the baseline exceeds this
   * (ms; 50 min), both entries restart from the sample. Default 3 000 000.
   */
  rolloverResetMs?: number;
  /** Receives a reselect request per outlier. */
  reselect?: ReselectRequester;
}

function entry(up: number, down: number, t: number): OwdEntry {
  return { up_ewma: up, down_ewma: down, last_receive_time_s: t };
}

function resetTo(e: OwdEntry, up: number, down: number): void {
  e.up_ewma = up;
  e.down_ewma = down;
}

/** Maintains the baseline and recent EWMAs of every reflector in an `OwdState`. */
export class Baseliner {
  /** The state written to. */
  readonly owd: OwdState;
  /** Slow factor (baseline). */
  readonly slow: number;
  /** Fast factor (recent). */
  readonly fast: number;
  readonly #tickS: number;
  readonly #staleGapS: number;
  readonly #outlierMs: number;
  readonly #staleMarkS: number;
  readonly #rolloverResetMs: number;
  #reselect?: ReselectRequester;

  /** Writes into `owd`; see `BaselinerOptions` for the defaults. */
  constructor(owd: OwdState, options: BaselinerOptions = {}) {
    const tickS = options.tickS ?? 0.5;
    this.owd = owd;
    this.slow = ewmaFactor(tickS, options.slowHalfLifeS ?? 135);
    this.fast = ewmaFactor(tickS, options.fastHalfLifeS ?? 0.4);
    this.#tickS = tickS;
    this.#staleGapS = options.staleGapS ?? STALE_GAP_S;
    this.#outlierMs = options.outlierMs ?? 5000;
    this.#staleMarkS = options.staleMarkS ?? 60;
    this.#rolloverResetMs = options.rolloverResetMs ?? 3_000_000;
    this.#reselect = options.reselect;
  }

  /**
   * Bridges a pause in pinging (idle mode) from `fromS` to `toS`: every entry's receive time
   * moves forward by the gap, so the first reply afterwards updates the EWMAs instead of
   * restarting them from that one sample (the stale rule would: a baseline taken under the load
   * that ended the pause would then hide its delay). The entries stay too old to be fresh, so
   * the control loop waits for new replies.
   */
  bridgeGap(fromS: number, toS: number): void {
    const gap = toS - fromS;
    if (!(gap > 0)) return;
    const notFresh = toS - 2 * this.#tickS;
    for (const map of [this.owd.baseline, this.owd.recent]) {
      for (const e of map.values()) {
        e.last_receive_time_s = Math.min(e.last_receive_time_s + gap, notFresh);
      }
    }
  }

  /** Sets (or replaces) where outliers send reselect requests. */
  setReselectRequester(reselect: ReselectRequester | undefined): void {
    this.#reselect = reselect;
  }

  /** Processes one sample in the exact order of docs/algorithm.md §4.2. */
  ingest(sample: OwdSample): SampleOutcome {
    const { reflector: ip, upMs: up, downMs: down, receiveTimeS: t } = sample;
    if (!Number.isFinite(up) || !Number.isFinite(down) || !Number.isFinite(t)) {
      log.debug("Ignoring non-finite sample from {ip}", { ip });
      return "outlier";
    }
    let outcome: SampleOutcome = "updated";
    // 1. create
    let base = this.owd.baseline.get(ip);
    let recent = this.owd.recent.get(ip);
    if (!base || !recent) {
      base ??= entry(up, down, t);
      recent ??= entry(up, down, t);
      this.owd.baseline.set(ip, base);
      this.owd.recent.set(ip, recent);
      outcome = "created";
    }
    // 2. stale reset
    if (
      t - base.last_receive_time_s > this.#staleGapS ||
      t - recent.last_receive_time_s > this.#staleGapS
    ) {
      resetTo(base, up, down);
      resetTo(recent, up, down);
      outcome = "reset-stale";
    }
    // 2b. absurd jump (midnight rollover left over after unwrapping, clock step): restart.
    if (
      Math.abs(up - base.up_ewma) + Math.abs(down - base.down_ewma) > this.#rolloverResetMs
    ) {
      log.info("Reflector {ip}: OWD jumped by more than 50 min, resetting its baselines", { ip });
      resetTo(base, up, down);
      resetTo(recent, up, down);
      base.last_receive_time_s = recent.last_receive_time_s = t;
      return "reset-rollover";
    }
    // 3. times
    base.last_receive_time_s = recent.last_receive_time_s = t;
    // 4. outlier rule
    if (up > base.up_ewma + this.#outlierMs || down > base.down_ewma + this.#outlierMs) {
      base.last_receive_time_s = recent.last_receive_time_s = t - this.#staleMarkS;
      log.info(
        "Reflector {ip} outlier (up {up} ms, down {down} ms vs baseline {bu}/{bd}): reselecting",
        { ip, up, down, bu: base.up_ewma, bd: base.down_ewma },
      );
      this.#reselect?.requestReselect(`outlier from ${ip}`);
      return "outlier";
    }
    // 5. update (the raw sample is kept too, for sample-driven controllers)
    const latest = this.owd.latest?.get(ip);
    if (latest === undefined) this.owd.latest?.set(ip, entry(up, down, t));
    else {
      latest.up_ewma = up;
      latest.down_ewma = down;
      latest.last_receive_time_s = t;
    }
    const slow = this.slow, fast = this.fast;
    base.up_ewma = base.up_ewma * slow + (1 - slow) * up;
    base.down_ewma = base.down_ewma * slow + (1 - slow) * down;
    recent.up_ewma = recent.up_ewma * fast + (1 - fast) * up;
    recent.down_ewma = recent.down_ewma * fast + (1 - fast) * down;
    // 6. baseline never above recent
    base.up_ewma = Math.min(base.up_ewma, recent.up_ewma);
    base.down_ewma = Math.min(base.down_ewma, recent.down_ewma);
    return outcome;
  }
}
