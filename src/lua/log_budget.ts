/**
 * How many log lines a script may write: a script that prints in a loop would otherwise fill a
 * router's log buffer in seconds and push the daemon's own lines out (a plugin printing in a loop
 * wrote 1823 lines in 5 s in the thirtieth session's walk). Each script and level has a bucket of
 * {@link LOG_BURST_LINES} lines that refills at {@link LOG_LINES_PER_S} a second; lines beyond it
 * are counted, and the count is logged at that level before the script's next line that fits once
 * the bucket was full again (the flood ended) or at most every {@link LOG_DROPPED_PERIOD_S} while
 * it goes on (docs/plugins.md, "The sandbox"). A line a decision, ten a second, always fits.
 */

/** Lines a second a script may log at one level, sustained. */
export const LOG_LINES_PER_S = 20;
/** Lines a script may log at one level at once, before the rate applies. */
export const LOG_BURST_LINES = 200;
/** While lines are left out, their count is logged at most this often, seconds. */
export const LOG_DROPPED_PERIOD_S = 60;

interface Bucket {
  tokens: number;
  atS: number;
  dropped: number;
  firstDroppedS: number;
  lastDroppedS: number;
}

/** The buckets of one Lua engine's scripts. */
export class LogBudget {
  readonly #buckets = new Map<string, Bucket>();
  readonly #nowS: () => number;

  /** `nowS`: monotonic seconds (the injected clock). */
  constructor(nowS: () => number) {
    this.#nowS = nowS;
  }

  /**
   * Whether a line of `source` at `level` may be logged now: `{ ok: true }`, with how many lines
   * of that source and level were left out before it (and over how many seconds, from the first
   * to the last) when their count is due, to report first; or `{ ok: false }` (it is counted).
   */
  take(
    source: string,
    level: string,
  ): { ok: true; dropped?: { lines: number; overS: number } } | { ok: false } {
    const now = this.#nowS();
    const key = `${level}\u0000${source}`;
    let b = this.#buckets.get(key);
    if (b === undefined) {
      b = { tokens: LOG_BURST_LINES, atS: now, dropped: 0, firstDroppedS: now, lastDroppedS: now };
      this.#buckets.set(key, b);
    }
    b.tokens = Math.min(LOG_BURST_LINES, b.tokens + (now - b.atS) * LOG_LINES_PER_S);
    b.atS = now;
    if (b.tokens < 1) {
      if (b.dropped === 0) b.firstDroppedS = now;
      b.lastDroppedS = now;
      b.dropped++;
      return { ok: false };
    }
    const refilled = b.tokens >= LOG_BURST_LINES;
    b.tokens--;
    if (b.dropped === 0 || !(refilled || now - b.firstDroppedS >= LOG_DROPPED_PERIOD_S)) {
      return { ok: true };
    }
    const dropped = { lines: b.dropped, overS: b.lastDroppedS - b.firstDroppedS };
    b.dropped = 0;
    return { ok: true, dropped };
  }
}
