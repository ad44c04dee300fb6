/**
 * A timeout for waits that nearly always end at once, without touching a timer per wait.
 *
 * A helper process's answer is awaited with a timeout several times a second (ten decisions a
 * second under load with `capacity`), and the answer almost always comes within a millisecond.
 * Creating and clearing a timer for each wait was one of the larger parts of an idle tick's
 * JavaScript (Deno's `setTimeout` builds a Node-style `Timeout` each time), and restarting one
 * long-lived timer (`refresh()`, with the clock read for the deadline) still cost about 11,000
 * instructions a wait (docs/footprint.md, "CPU under load"). So a wait only counts itself: one
 * timer of the wait's duration stays armed while waits come, and a wait that was already running
 * when the timer last fired (or was armed) has run a full period and expires. A countdown of `ms`
 * therefore expires between `ms` and `2 × ms` after its start. A timer that fires with no wait
 * running is not re-armed; the next wait arms it.
 */

/** The timer functions used (injectable for tests). */
export interface TimeoutTimers {
  /** Like `setTimeout`. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Like `clearTimeout`. */
  clearTimeout(timer: unknown): void;
}

/**
 * The real timers. An armed timer keeps the process alive like any other, so owners `dispose()`
 * theirs when done (a waiting coprocess whose answer never comes must still time out).
 */
export const realTimeoutTimers: TimeoutTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (timer) => clearTimeout(timer as number),
};

/**
 * Calls `onExpire` once a countdown started with `start(ms)` has run for at least `ms` (at most
 * `2 × ms`), unless `stop()` or another `start()` came first. One countdown at a time.
 */
export class RearmableTimeout {
  readonly #onExpire: () => void;
  readonly #timers: TimeoutTimers;
  #timer: unknown;
  /** The armed timer's duration. */
  #timerMs = NaN;
  /** Countdowns started so far: the running one, if any, is the last. */
  #started = 0;
  #running = false;
  /** The last countdown started when the timer was last armed: it has run a full period since. */
  #seen = 0;

  /** `onExpire` runs when a countdown ends. */
  constructor(onExpire: () => void, options: { timers?: TimeoutTimers } = {}) {
    this.#onExpire = onExpire;
    this.#timers = options.timers ?? realTimeoutTimers;
  }

  /** True while a countdown runs. */
  get running(): boolean {
    return this.#running;
  }

  /** Starts a countdown of `ms` from now (a running one is replaced). */
  start(ms: number): void {
    this.#started++;
    this.#running = true;
    // An armed timer of this duration sees this countdown at its next firing.
    if (this.#timer === undefined || this.#timerMs !== ms) this.#arm(ms);
  }

  /** Stops the running countdown (the timer itself stays armed and ignores its firing). */
  stop(): void {
    this.#running = false;
  }

  /** Stops and clears the timer (the owner is done with it). */
  dispose(): void {
    this.#running = false;
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(ms: number): void {
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timerMs = ms;
    this.#seen = this.#started;
    this.#timer = this.#timers.setTimeout(() => this.#fired(), ms);
  }

  #fired(): void {
    this.#timer = undefined;
    if (!this.#running) return; // no countdown: stay unarmed until the next start
    if (this.#started !== this.#seen) {
      // Started since the timer was armed: it has run less than a period.
      this.#arm(this.#timerMs);
      return;
    }
    this.#running = false;
    this.#onExpire();
  }
}
