import type { Clock, RandomSource } from "../util/clock.ts";
import type { Logger } from "../log/logger.ts";
import type { OwdState, ReselectRequester, ShaperQueue } from "./ports.ts";
import type { Settings } from "../config/types.ts";
import type { DeltaSample } from "./deltas.ts";

/**
 * What the control loop measured for one tick, before any controller decides. Names follow
 * upstream's plugin readings (docs/plugins.md, `process(readings)`) so the same object feeds plugins.
 */
export interface TickReadings {
  /** Seconds since the controller started (monotonic). */
  now_s: number;
  /** Seconds since the previous tick. */
  dt: number;
  /** Download utilisation / current download rate. */
  rx_load: number;
  /** Upload utilisation / current upload rate. */
  tx_load: number;
  /** Download delay statistic, ms (3rd smallest delta, or smallest with < 3). */
  down_del_stat: number;
  /** Upload delay statistic, ms. */
  up_del_stat: number;
  /** Measured download throughput, kbit/s. */
  down_utilisation: number;
  /** Measured upload throughput, kbit/s. */
  up_utilisation: number;
  /** Download rate in force during the interval, kbit/s. */
  cur_dl_rate: number;
  /** Upload rate in force during the interval, kbit/s. */
  cur_ul_rate: number;
  /** Download bytes moved during the interval (counter delta; a reset counts as 0). */
  dl_bytes: number;
  /** Upload bytes moved during the interval. */
  ul_bytes: number;
  /** Sorted (ascending) per-reflector download deltas, ms. */
  dl_deltas: readonly number[];
  /** Sorted (ascending) per-reflector upload deltas, ms. */
  ul_deltas: readonly number[];
  /** The deltas per reflector (identity, sample age), peer order; absent in older callers. */
  samples?: readonly DeltaSample[];
}

/** Everything a controller decides from, for one tick. */
export interface TickInput {
  /** The readings of this tick. */
  readings: TickReadings;
  /** Download delay threshold in force (ms); plugins may have overridden the setting. */
  dl_max_delta_owd: number;
  /** Upload delay threshold in force (ms). */
  ul_max_delta_owd: number;
}

/** A controller's decision for one tick: proposed rates in kbit/s, before clamping. */
export interface RateDecision {
  /** Proposed download rate (kbit/s); the loop clamps and floors it. */
  next_dl_rate: number;
  /** Proposed upload rate (kbit/s). */
  next_ul_rate: number;
  /** The controller asks for a reflector reselection. */
  reselect?: boolean;
}

/** One decision per tick from readings to next rates. EWMA and Lua controllers implement it. */
export interface Ratecontroller {
  /** Display name, e.g. `ewma` or the Lua script's name. */
  readonly name: string;
  /**
   * The Lua script it runs, as it was found (a path, or `builtin:<name>`); absent for the
   * TypeScript controllers. The daemon names it at start (docs/operation.md, "Logging").
   */
  readonly script?: string;
  /**
   * The decision period this controller is designed for, s. Absent: `min_change_interval`
   * (EWMA and Lua controllers). The capacity controller decides about once per new sample.
   */
  readonly intervalS?: number;
  /** Decides the next rates. Must not throw for a Lua script error (the loop guards anyway). */
  decide(input: TickInput): RateDecision | Promise<RateDecision>;
  /** The safe-rate history for the speed-history dump, when the controller keeps one. */
  speedHistory?(): { up: readonly number[]; down: readonly number[] };
  /** Releases resources (Lua engines). */
  close?(): void;
}

/** What any controller needs to be built, bundled so constructors take one argument. */
export interface RatecontrollerContext {
  /** Effective settings. */
  settings: Settings;
  /** Injected clock. */
  clock: Clock;
  /** Injected random source (safe-rate init, random safe-rate pick). */
  random: RandomSource;
  /** Logger for the controller. */
  logger: Logger;
  /** Shared measurement state (read-only for controllers). */
  owd: OwdState;
  /** Reselection requests. */
  reselect: ReselectRequester;
  /** What the start-up check learnt of the shapers' queues (absent: from `settings.shaper`). */
  shaperQueues?: ShaperQueues;
}

/**
 * How the shapers queue the daemon's probes (docs/controllers.md, "Shapers without flow
 * isolation").
 */
export interface ShaperQueues {
  /** The download shaper's queue (undefined: not known). */
  dl?: ShaperQueue;
  /** The upload shaper's queue (undefined: not known). */
  ul?: ShaperQueue;
  /**
   * The daemon's own probe replies pass the download shaper: ingress shaping on an IFB (the
   * usual setup). False when it shapes the LAN egress, as in the e2e testbed.
   */
  dlCarriesProbes: boolean;
}

/** What an adjuster (the plugin manager) sees: the readings and the controller's proposal. */
export interface AdjusterInput {
  /** This tick's readings. */
  readings: TickReadings;
  /** Proposed download rate after the controller (and earlier adjusters). */
  next_dl_rate: number;
  /** Proposed upload rate. */
  next_ul_rate: number;
  /** Download delay threshold in force (ms). */
  dl_max_delta_owd: number;
  /** Upload delay threshold in force (ms). */
  ul_max_delta_owd: number;
}

/**
 * An adjuster's result. Rates replace this tick's proposal only; thresholds persist in the
 * loop and feed the controller from the next tick on (docs/plugins.md, Results).
 */
export interface Adjustment {
  /** Replaces this tick's proposed download rate. */
  next_dl_rate?: number;
  /** Replaces this tick's proposed upload rate. */
  next_ul_rate?: number;
  /** New download delay threshold (ms), kept for later ticks. */
  dl_max_delta_owd?: number;
  /** New upload delay threshold (ms), kept for later ticks. */
  ul_max_delta_owd?: number;
  /**
   * Who made the changes, when the adjuster runs several (the plugins' names, in order): the
   * loop's "settings changed by plugin" line names them rather than the adjuster (docs/plugins.md).
   */
  by?: string;
}

/** Runs after the controller and before `tc`, whatever the controller (plugins). */
export interface RateAdjuster {
  /** Display name. */
  readonly name: string;
  /** Returns changes to this tick's proposal; must not throw (the loop guards anyway). */
  adjust(input: AdjusterInput): Adjustment | Promise<Adjustment>;
  /** Releases resources. */
  close?(): void;
}
