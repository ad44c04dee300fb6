/** One EWMA pair for a reflector (algorithm.md §2, §4). Times are monotonic seconds. */
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
 * control loop (readers). Entries are never deleted (algorithm.md §2).
 */
export interface OwdState {
  /** Slow EWMA per reflector IP. */
  readonly baseline: Map<string, OwdEntry>;
  /** Fast EWMA per reflector IP. */
  readonly recent: Map<string, OwdEntry>;
  /** Reflectors currently pinged, in order. Replaced (not mutated) by the selector. */
  peers: readonly string[];
}

/** Something that can be asked to re-choose the reflectors (the selector). */
export interface ReselectRequester {
  /** Asks for a reselection; `reason` is logged. Requests may be debounced. */
  requestReselect(reason: string): void;
}

/** Creates an empty shared measurement state with the given initial peers. */
export function createOwdState(peers: readonly string[] = []): OwdState {
  return { baseline: new Map(), recent: new Map(), peers };
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
}
