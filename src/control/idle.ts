/**
 * Idle detection (docs/footprint.md): both directions below `idle_threshold` kbit/s for
 * `idle_delay` seconds means idle; one reading at or above it in either direction means busy
 * again. Pure: the loop feeds it counter readings with their (injected) times.
 */
import type { CounterReading } from "./ports.ts";
import { counterDelta } from "./counter_delta.ts";
import { HARD_MAX_RATE_KBIT } from "./rate_bounds.ts";

/** Bytes → kbit. */
const KBIT_PER_BYTE = 8 / 1000;

/** What one reading means for idle mode. */
export type IdleVerdict = "busy" | "quiet" | "idle";

/** Tracks how long both directions have been quiet. */
export class IdleDetector {
  readonly #thresholdKbit: number;
  readonly #delayS: number;
  readonly #maxKbit: { dl: number; ul: number };
  /** Start of the current quiet stretch (the earlier reading of the first quiet interval). */
  #quietSinceS: number | undefined;

  /**
   * Quiet below `thresholdKbit` in both directions; idle after `delayS` of it. `maxKbit`: each
   * direction's highest rate, which bounds a 32-bit counter wrap (`counterDelta`; default the
   * hard ceiling).
   */
  constructor(
    options: { thresholdKbit: number; delayS: number; maxKbit?: { dl: number; ul: number } },
  ) {
    this.#thresholdKbit = options.thresholdKbit;
    this.#delayS = options.delayS;
    this.#maxKbit = options.maxKbit ?? { dl: HARD_MAX_RATE_KBIT, ul: HARD_MAX_RATE_KBIT };
  }

  /**
   * Judges the interval from `prev` (read at `prevS`) to `cur` (read at `nowS`). A reset counter
   * or a changed interface index tells nothing: it counts as busy, so idling waits for a clean
   * quiet stretch. A 32-bit counter that wrapped is counted across the wrap.
   */
  observe(
    prev: CounterReading,
    cur: CounterReading,
    times: { prevS: number; nowS: number },
  ): IdleVerdict {
    const dt = times.nowS - times.prevS;
    const dl = counterDelta(prev.dlBytes, cur.dlBytes, { dtS: dt, maxKbit: this.#maxKbit.dl });
    const ul = counterDelta(prev.ulBytes, cur.ulBytes, { dtS: dt, maxKbit: this.#maxKbit.ul });
    const comparable = dt > 0 && dl !== undefined && ul !== undefined &&
      cur.dlIfindex === prev.dlIfindex && cur.ulIfindex === prev.ulIfindex;
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
