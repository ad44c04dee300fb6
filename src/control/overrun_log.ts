/**
 * Logs ticks that last longer than their period (a slow router or management link: docs/remote.md,
 * "A slow management link") once at WARN after `OVERRUN_WARN_TICKS` in a row, and once at INFO
 * after `OVERRUN_CLEAR_TICKS` in a row fit their period again, instead of a line every tick.
 */
import type { Logger } from "../log/logger.ts";

/** Ticks in a row longer than their period before the warning. */
export const OVERRUN_WARN_TICKS = 10;
/** Ticks in a row within their period before the all-clear (and the warning is armed again). */
export const OVERRUN_CLEAR_TICKS = 100;

/** Counts ticks longer than their period. */
export class OverrunLog {
  readonly #log: Logger;
  #late = 0;
  #onTime = 0;
  #lateSumS = 0;
  #warned = false;

  /** Logs to `log`. */
  constructor(log: Logger) {
    this.#log = log;
  }

  /** One tick of `durationS` against its period `periodS`. */
  tick(durationS: number, periodS: number): void {
    if (durationS <= periodS) {
      this.#late = 0;
      this.#lateSumS = 0;
      if (this.#warned && ++this.#onTime >= OVERRUN_CLEAR_TICKS) {
        this.#warned = false;
        this.#log.info("decisions fit their period of {period} ms again", {
          period: Math.round(periodS * 1000),
        });
      }
      return;
    }
    this.#onTime = 0;
    this.#late++;
    this.#lateSumS += durationS;
    if (this.#warned || this.#late < OVERRUN_WARN_TICKS) return;
    this.#warned = true;
    const ms = Math.round((this.#lateSumS / this.#late) * 1000);
    this.#log.warning(
      "decisions take {ms} ms, longer than their period of {period} ms: one every {ms} ms " +
        "instead (the counters' reading and rate changes wait for the router; " +
        'docs/remote.md, "A slow management link")',
      { ms, period: Math.round(periodS * 1000) },
    );
  }
}
