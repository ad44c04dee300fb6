/**
 * Injected time. The control core never reads the system clock itself, so the daemon, the
 * simulator and the tests drive the same code in real or virtual time.
 */
export interface Clock {
  /** Monotonic time in seconds (arbitrary origin). Used for freshness, intervals, timers. */
  monotonicS(): number;
  /** Wall-clock time in milliseconds since the Unix epoch. Used only for stats rows and logs. */
  wallMs(): number;
}

/**
 * Slack of `isDue`, seconds. Virtual time is a sum of float steps (e.g. 268.83 vs
 * 268.83000000000004), so "exactly at" must tolerate rounding; far below any real interval.
 */
export const DUE_SLACK_S = 1e-9;

/**
 * Whether something scheduled for `atS` is due at `nowS` (both monotonic seconds). The one
 * comparison shared by timers and the code they wake: if a timer fires, its owner must also see
 * its deadline as reached, or it re-arms for "now" and the simulator spins without time moving.
 */
export function isDue(nowS: number, atS: number): boolean {
  return nowS + DUE_SLACK_S >= atS;
}

/** A source of uniform random numbers in [0, 1). Injected so runs are reproducible. */
export type RandomSource = () => number;

/** The real clocks of the machine. */
export const systemClock: Clock = {
  monotonicS: () => performance.now() / 1000,
  wallMs: () => Date.now(),
};

/** A clock that only moves when told to: for tests and the simulator. */
export class VirtualClock implements Clock {
  #now: number;
  #wallOriginMs: number;

  /** Starts at `startS` monotonic seconds; wall time is `wallOriginMs` + elapsed. */
  constructor(startS = 0, options: { wallOriginMs?: number } = {}) {
    this.#now = startS;
    this.#wallOriginMs = options.wallOriginMs ?? 1_700_000_000_000;
  }

  /** Current virtual monotonic time in seconds. */
  monotonicS(): number {
    return this.#now;
  }

  /** Virtual wall time: the origin plus the virtual seconds elapsed. */
  wallMs(): number {
    return this.#wallOriginMs + this.#now * 1000;
  }

  /** Moves time forward by `seconds` (never backwards). */
  advance(seconds: number): void {
    if (seconds < 0) throw new RangeError("VirtualClock cannot go backwards");
    this.#now += seconds;
  }

  /** Sets the absolute virtual time (must not be earlier than now). */
  set(nowS: number): void {
    if (nowS < this.#now) throw new RangeError("VirtualClock cannot go backwards");
    this.#now = nowS;
  }
}

/**
 * A small deterministic PRNG (mulberry32) so tests and the simulator get reproducible
 * randomness from a seed.
 */
export function seededRandom(seed: number): RandomSource {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Sleeps `ms`; resolves early (never rejects) when `signal` aborts. Injected for virtual time. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** Real, abortable sleep (setTimeout). */
export const realSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener("abort", done, { once: true });
  });

/** Splits wall-clock milliseconds into epoch seconds and nanoseconds. */
export function wallMsToSecNs(wallMs: number): { times: number; timens: number } {
  const times = Math.floor(wallMs / 1000);
  const timens = Math.min(999_999_999, Math.round((wallMs - times * 1000) * 1e6));
  return { times, timens };
}
