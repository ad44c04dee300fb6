/**
 * The ports of the control core: what the control loop needs from the outside world, declared
 * here so the adapters (measurement pipeline, `tc` shapers, interface counters, statistics
 * files, the simulator) implement them and the core imports none of them
 * (docs/architecture.md).
 */

// --- measurement -------------------------------------------------------------------------

/** One EWMA pair for a reflector (docs/algorithm.md §2, §4). Times are monotonic seconds. */
export interface OwdEntry {
  /** Upload one-way delay EWMA, ms. */
  up_ewma: number;
  /** Download one-way delay EWMA, ms. */
  down_ewma: number;
  /** Monotonic time (s) of the last accepted sample. */
  last_receive_time_s: number;
}

/**
 * The measurement state shared between the baseliner (writer), the reflector selector and the
 * control loop (readers). Entries are never deleted (docs/algorithm.md §2).
 */
export interface OwdState {
  /** Slow EWMA per reflector IP. */
  readonly baseline: Map<string, OwdEntry>;
  /** Fast EWMA per reflector IP. */
  readonly recent: Map<string, OwdEntry>;
  /**
   * The last accepted raw sample per reflector IP (no smoothing), for controllers that act on
   * single samples (docs/controllers.md). Optional: states built by hand may lack it.
   */
  readonly latest?: Map<string, OwdEntry>;
  /** Reflectors currently pinged, in order. Replaced (not mutated) by the selector. */
  peers: readonly string[];
  /**
   * The peers a selection switched to, each with the time (monotonic s) until which, without a
   * fresh reply, it counts as awaited rather than missing: its pinger process may start up to a
   * tick after the switch (`ping`: one process a reflector, started spread; fping: one child for
   * the new set, its targets probed oldest reply first, src/measure/probe_order.ts) and then has
   * the window of fresh replies to answer (src/reflectors/selector.ts, `AWAITED_TICKS`). Replaced
   * (not mutated) by the selector; optional.
   */
  awaitedUntilS?: ReadonlyMap<string, number>;
}

/** What a reselection request answers (docs/algorithm.md §8.2). */
export interface ReselectRequestOptions {
  /**
   * The control loop found too few fresh reflectors. Such a request made while a cycle that
   * answers one runs is folded into that cycle: the loop asks again a tick after the selection if
   * too few are still fresh.
   */
  tooFewFresh?: boolean;
}

/** Something that can be asked to re-choose the reflectors (the selector). */
export interface ReselectRequester {
  /** Asks for a reselection; `reason` is logged. Requests may be debounced. */
  requestReselect(reason: string, options?: ReselectRequestOptions): void;
}

/**
 * The running measurement pipeline (pinger subprocesses → baseliner, plus the reflector
 * selector), as the daemon sees it. The simulator provides its own replies but the same state.
 */
export interface MeasurementService {
  /** The shared state the pipeline keeps up to date. */
  readonly owd: OwdState;
  /** Where the control loop sends reselection requests. */
  readonly reselect: ReselectRequester;
  /** Starts pinging and selecting. */
  start(): Promise<void>;
  /** Stops and reaps every child process. */
  stop(): Promise<void>;
  /** Stops pinging for idle mode, keeping the reflectors and baselines; `resume()` restarts. */
  pause?(): Promise<void>;
  /** Pings again after `pause()`; the baselines bridge the gap (docs/footprint.md). */
  resume?(): Promise<void>;
}

/** What idle mode needs of the measurement: stop pinging and start again. */
export interface PingControl {
  /** Stops pinging. */
  pause(): Promise<void>;
  /** Pings again. */
  resume(): Promise<void>;
}

// --- shaper ------------------------------------------------------------------------------

/**
 * After this many seconds without a change the loop sets the rates in place again as they are, so
 * a root qdisc deleted, re-created or given another rate by someone else is seen and put right
 * within it, idle or not (docs/operation.md, "An interface or its qdisc changed under the
 * daemon"). Part of the shaper port: adapters pace their own look-ups by it (src/remote/mod.ts).
 */
export const SHAPER_REFRESH_S = 10;

/** Supported shaper kinds (setting `shaper`). */
export type ShaperKind = "cake" | "htb" | "tbf";

/** Sets the rate of one interface's shaper. */
export interface Shaper {
  /** Shaper kind. */
  readonly kind: ShaperKind;
  /** Interface name. */
  readonly ifname: string;
  /**
   * Sets the rate (kbit/s, 1 kbit = 1000 bit). Rejects with a `ShaperError` carrying tc's stderr,
   * or with a {@linkcode ChangeNotTried} when no tc was asked.
   */
  setRate(kbit: number): Promise<void>;
  /** Verifies the qdisc/class exists and has the right kind; rejects with `ShaperCheckError`. */
  check(): Promise<void>;
  /** Reads the rate currently configured (kbit/s). */
  readRate?(): Promise<number>;
  /**
   * The rate in force (kbit/s), asked only where it costs no process or connection of its own
   * (the `tc -batch` session that made the last change); undefined when it cannot be asked so, or
   * the qdisc is not the one the last change found (replaced: the next change says so). Used to
   * notice another program changing the rate (docs/operation.md, "Another program changes the
   * rate").
   */
  rateInForce?(): Promise<number | undefined>;
  /** How it queues, as the last `check()` found it (undefined: not known). */
  readonly queue?: ShaperQueue;
}

/**
 * Why a change was not tried: the router does not answer (remote mode: made once it answers
 * again) or the daemon is stopping (the exit rate comes next, or was given up at its budget).
 */
export type NotTriedReason = "router-away" | "stopping";

/**
 * `Shaper.setRate` rejects with this when no tc was asked: the change says nothing about the
 * shaper, and its cause is logged by whoever knows it (the counter session, the exit rate), so
 * the loop logs it at DEBUG only (docs/operation.md, "Logging").
 */
export class ChangeNotTried extends Error {
  /** Why it was not tried. */
  readonly reason: NotTriedReason;

  /** `message` says why, in the shaper's words. */
  constructor(reason: NotTriedReason, message: string) {
    super(message);
    this.name = "ChangeNotTried";
    this.reason = reason;
  }
}

/**
 * How a shaper queues the traffic it holds back (docs/controllers.md, "Shapers without flow
 * isolation").
 */
export interface ShaperQueue {
  /**
   * Sparse flows such as the daemon's probes are served ahead of the bulk queue: CAKE, or an
   * fq-type leaf (fq_codel, fq, fq_pie, sfq, cake) under tbf/htb. Else one FIFO holds all.
   */
  isolating: boolean;
  /** The leaf qdiscs' kinds (tbf/htb: a built-in one is named as tc would, bfifo/pfifo). */
  leaves: string[];
  /** A FIFO's size, when it is one queue of a known limit (tbf, htb with one bfifo leaf). */
  fifo?: FifoSize;
}

/**
 * The size of a FIFO shaper's queue: its longest delay at rate R is
 * `latencyS + max(bytes / R, burstS)`.
 */
export interface FifoSize {
  /** The part that scales with the rate (TBF's `latency`), s. */
  latencyS: number;
  /** The fixed part (TBF's burst, a bfifo's limit), bytes. */
  bytes: number;
  /** TBF: the burst the daemon sets grows with the rate, to this many seconds of it. */
  burstS?: number;
}

/** A download/upload shaper pair. */
export interface ShaperPair {
  /** Shaper of the download interface. */
  dl: Shaper;
  /** Shaper of the upload interface. */
  ul: Shaper;
  /** Stops helper processes (the tc coprocess); call once after the last change. */
  close?(): Promise<void>;
  /** The daemon is stopping: the exit rate comes next (called once, on the shutdown signal). */
  stopping?(): void;
}

// --- counters ----------------------------------------------------------------------------

/** Both interfaces' byte counters at one instant. */
export interface CounterReading {
  /** Bytes counted in the download direction (see `counterDirections`). */
  dlBytes: number;
  /** Bytes counted in the upload direction. */
  ulBytes: number;
  /** Interface index of the download interface; a change means the interface was recreated. */
  dlIfindex?: number;
  /** Interface index of the upload interface. */
  ulIfindex?: number;
}

/** Reads the byte counters; `null` when an interface is missing or unreadable. Never throws. */
export interface CounterReader {
  /** One reading of both interfaces. */
  read(options?: CounterReadOptions): Promise<CounterReading | null>;
  /** Stops helper processes (reaps them). */
  close?(): Promise<void>;
}

/** How a reading is taken. */
export interface CounterReadOptions {
  /**
   * The loop is idle: nothing else waits on the thread, so the reader may block it briefly to take
   * a helper's answer in one piece instead of waking for each part (docs/footprint.md).
   */
  idle?: boolean;
}

// --- statistics --------------------------------------------------------------------------

/** One stats row: the values of a normal-path tick. */
export interface StatsRow {
  /** Wall-clock epoch seconds (integer part). */
  times: number;
  /** Nanosecond part of the same instant. */
  timens: number;
  /** Download load. */
  rxload: number;
  /** Upload load. */
  txload: number;
  /** Download delay statistic, ms. */
  deltadelaydown: number;
  /** Upload delay statistic, ms. */
  deltadelayup: number;
  /** Download rate after the decision, kbit/s. */
  dlrate: number;
  /** Upload rate after the decision, kbit/s. */
  uprate: number;
}

/** Where the control loop sends statistics. */
export interface StatsSink {
  /** One normal-path tick. */
  statsRow(row: StatsRow): void;
  /** One speed-history dump: `timeS` is seconds since the controller started. */
  speedHistory(timeS: number, up: readonly number[], down: readonly number[]): void;
  /** Writes everything buffered. */
  flush(): Promise<void>;
}

// --- observers ---------------------------------------------------------------------------

/** What one control tick did, for observers (metrics, the live page, MQTT). */
export interface TickEvent {
  /** Wall-clock time of the tick's end, ms since the epoch. */
  wallMs: number;
  /**
   * Monotonic time of the tick's end, s: what intervals are measured with (the wall clock can
   * be stepped by months: docs/operation.md, "Wall-clock steps").
   */
  monotonicS: number;
  /** How long the tick took (counters, controller, plugins, tc), s. */
  durationS: number;
  /**
   * Branch taken: `normal`, `hold` (counters unreadable), `no-deltas` or `idle` (idle mode)
   * (docs/algorithm.md §7.4).
   */
  path: "normal" | "hold" | "no-deltas" | "idle";
  /** Download rate in force after the tick, kbit/s. */
  dlRate: number;
  /** Upload rate in force after the tick, kbit/s. */
  ulRate: number;
  /** Download delay threshold in force, ms. */
  dlThresholdMs: number;
  /** Upload delay threshold in force, ms. */
  ulThresholdMs: number;
  /** Fresh reflectors this tick. */
  fresh: number;
  /** Values of a normal tick (absent on hold and no-deltas). */
  readings?: {
    /** Download load (throughput / rate). */
    rxLoad: number;
    /** Upload load. */
    txLoad: number;
    /** Download delay statistic, ms. */
    dlDelayMs: number;
    /** Upload delay statistic, ms. */
    ulDelayMs: number;
    /** Achieved download throughput, kbit/s. */
    dlThroughput: number;
    /** Achieved upload throughput, kbit/s. */
    ulThroughput: number;
  };
  /** The byte counters could not be read this tick. */
  counterFailure: boolean;
  /** Shaper changes that failed this tick. */
  shaperFailures: { dl: boolean; ul: boolean };
  /** The controller threw or returned an invalid rate. */
  controllerFailure: boolean;
  /** Adjusters (plugins) that threw this tick. */
  adjusterFailures: number;
}

/**
 * Receives every tick's event. Called synchronously at the end of the tick: it must be cheap and
 * do no I/O (buffer and hand off instead); an observer that throws is logged and skipped.
 */
export interface ControlObserver {
  /** One tick happened. */
  onTick(event: TickEvent): void;
}
