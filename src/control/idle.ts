/**
 * Idle detection (docs/footprint.md): both directions below `idle_threshold` kbit/s for
 * `idle_delay` seconds means idle; one reading at or above it in either direction means busy
 * again. Pure: the loop feeds it counter readings with their (injected) times.
 */
import type { CounterReading } from "./ports.ts";

/** Bytes → kbit. */
const KBIT_PER_BYTE = 8 / 1000;

/** What one reading means for idle mode. */
export type IdleVerdict = "busy" | "quiet" | "idle";

/** Tracks how long both directions have been quiet. */
export class IdleDetector {
  readonly #thresholdKbit: number;
  readonly #delayS: number;
  /** Start of the current quiet stretch (the earlier reading of the first quiet interval). */
  #quietSinceS: number | undefined;

  /** Quiet below `thresholdKbit` in both directions; idle after `delayS` of it. */
  constructor(options: { thresholdKbit: number; delayS: number }) {
    this.#thresholdKbit = options.thresholdKbit;
    this.#delayS = options.delayS;
  }

  /**
   * Judges the interval from `prev` (read at `prevS`) to `cur` (read at `nowS`). A reset counter
   * or a changed interface index tells nothing: it counts as busy, so idling waits for a clean
   * quiet stretch.
   */
  observe(
    prev: CounterReading,
    cur: CounterReading,
    times: { prevS: number; nowS: number },
  ): IdleVerdict {
    const dt = times.nowS - times.prevS;
    const dl = cur.dlBytes - prev.dlBytes;
    const ul = cur.ulBytes - prev.ulBytes;
    const comparable = dt > 0 && dl >= 0 && ul >= 0 && cur.dlIfindex === prev.dlIfindex &&
      cur.ulIfindex === prev.ulIfindex;
    const quiet = comparable && KBIT_PER_BYTE * dl / dt < this.#thresholdKbit &&
      KBIT_PER_BYTE * ul / dt < this.#thresholdKbit;
    if (!quiet) {
      this.#quietSinceS = undefined;
      return "busy";
    }
    this.#quietSinceS ??= times.prevS;
    return times.nowS - this.#quietSinceS >= this.#delayS ? "idle" : "quiet";
  }

  /** Forgets the quiet stretch (after leaving idle mode). */
  reset(): void {
    this.#quietSinceS = undefined;
  }
}
