/**
 * A timeout restarted for every wait instead of a timer created and cleared per wait.
 *
 * A helper process's answer is awaited with a timeout several times a second, and the answer
 * almost always comes within a millisecond. Creating and clearing a timer for each wait was one
 * of the larger parts of an idle tick's JavaScript (Deno's `setTimeout` builds a Node-style
 * `Timeout` object each time: about 10 µs hot, far more on an idle daemon's cold caches); restarting
 * one long-lived timer (`refresh()`) costs a few percent of that (docs/footprint.md, "Idle CPU").
 * A wait that ends just stops the countdown: the timer stays armed, and when it fires with no
 * countdown running it does nothing and is not re-armed.
 */

/** The timer functions used (injectable for tests). */
export interface TimeoutTimers {
  /** Like `setTimeout`; a returned object with a `refresh()` method is restarted through it. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Like `clearTimeout`. */
  clearTimeout(timer: unknown): void;
  /** Monotonic milliseconds. */
  nowMs(): number;
}

/** What Deno's `setTimeout` returns at run time (a Node-style `Timeout`), as far as used here. */
interface RefreshableTimer {
  refresh(): unknown;
}

function refreshable(timer: unknown): RefreshableTimer | undefined {
  const t = timer as Partial<RefreshableTimer> | null;
  return typeof t === "object" && t !== null && typeof t.refresh === "function"
    ? t as RefreshableTimer
    : undefined;
}

/**
 * The real timers. An armed timer keeps the process alive like any other, so owners `dispose()`
 * theirs when done (a waiting coprocess whose answer never comes must still time out).
 */
export const realTimeoutTimers: TimeoutTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (timer) => clearTimeout(timer as number),
  nowMs: () => performance.now(),
};

/**
 * Calls `onExpire` once a countdown started with `start(ms)` runs out, unless `stop()` or
 * another `start()` came first. One countdown at a time.
 */
export class RearmableTimeout {
  readonly #onExpire: () => void;
  readonly #timers: TimeoutTimers;
  #timer: unknown;
  /** The armed timer's duration (what `refresh()` restarts it with). */
  #timerMs = NaN;
  /** End of the running countdown (monotonic ms); Infinity when none runs. */
  #deadlineMs = Infinity;

  /** `onExpire` runs when a countdown ends. */
  constructor(onExpire: () => void, options: { timers?: TimeoutTimers } = {}) {
    this.#onExpire = onExpire;
    this.#timers = options.timers ?? realTimeoutTimers;
  }

  /** True while a countdown runs. */
  get running(): boolean {
    return this.#deadlineMs !== Infinity;
  }

  /** Starts a countdown of `ms` from now (a running one is replaced). */
  start(ms: number): void {
    this.#deadlineMs = this.#timers.nowMs() + ms;
    if (this.#timer !== undefined && this.#timerMs === ms) {
      const r = refreshable(this.#timer);
      if (r !== undefined) {
        r.refresh();
        return;
      }
    }
    this.#arm(ms);
  }

  /** Stops the running countdown (the timer itself stays armed and ignores its firing). */
  stop(): void {
    this.#deadlineMs = Infinity;
  }

  /** Stops and clears the timer (the owner is done with it). */
  dispose(): void {
    this.#deadlineMs = Infinity;
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(ms: number): void {
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timerMs = ms;
    this.#timer = this.#timers.setTimeout(() => this.#fired(), ms);
  }

  #fired(): void {
    this.#timer = undefined;
    if (this.#deadlineMs === Infinity) return; // no countdown: stay unarmed until the next start
    const left = this.#deadlineMs - this.#timers.nowMs();
    if (left > 0) {
      // Armed for an earlier, shorter countdown than the running one.
      this.#arm(left);
      return;
    }
    this.#deadlineMs = Infinity;
    this.#onExpire();
  }
}
