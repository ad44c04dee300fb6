/**
 * Logs a measurement outage (too few fresh reflectors) once at WARN and once at INFO with a summary
 * when it ends, instead of a line every tick (docs/operation.md, "Logging"). A dip that ends within
 * `BRIEF_OUTAGE_S` with some reflector still fresh (one late or lost reply under load) is logged at
 * DEBUG only: at WARN it came every few minutes on a loaded link and needed nothing from the owner.
 */
import type { Logger } from "../log/logger.ts";

/** How long too few fresh reflectors last, s, before the outage is a WARN (sooner when none is). */
export const BRIEF_OUTAGE_S = 1;

/** Tracks one outage at a time. */
export class OutageLog {
  readonly #log: Logger;
  #sinceS: number | undefined;
  #warned = false;
  #ticks = 0;
  #fewest = Infinity;

  /** Logs to `log`. */
  constructor(log: Logger) {
    this.#log = log;
  }

  /** Whether an outage is in progress. */
  get active(): boolean {
    return this.#sinceS !== undefined;
  }

  /**
   * A tick with too few fresh reflectors (`fresh` of the 5 needed); `heldBack` when the loop asks
   * for no reselection because `late` more are late behind a queue on our link
   * (late_reflectors.ts).
   */
  tooFew(nowS: number, fresh: number, heldBack?: { late: number }): void {
    this.#ticks++;
    this.#fewest = Math.min(this.#fewest, fresh);
    const action = heldBack === undefined
      ? "requesting reselection"
      : `${heldBack.late} more late behind a queue on our link: no reselection`;
    this.#sinceS ??= nowS;
    if (this.#warned || (fresh > 0 && nowS - this.#sinceS < BRIEF_OUTAGE_S)) {
      this.#log.debug("only {n} fresh reflectors (need 5): {action}", { n: fresh, action });
      return;
    }
    this.#warned = true;
    this.#log.warning(
      "only {n} fresh reflectors (need 5): {action}; rates go to the minimum " +
        "while none is fresh (logged again when it ends)",
      { n: fresh, action },
    );
  }

  /** A tick with enough fresh reflectors: ends an outage in progress. */
  enough(nowS: number, fresh: number): void {
    if (this.#sinceS === undefined) return;
    const summary =
      "{n} fresh reflectors again after {s} s with too few ({ticks} ticks, fewest {fewest})";
    const values = {
      n: fresh,
      s: Math.round((nowS - this.#sinceS) * 10) / 10,
      ticks: this.#ticks,
      fewest: this.#fewest,
    };
    if (this.#warned) this.#log.info(summary, values);
    else this.#log.debug(summary, values);
    this.#sinceS = undefined;
    this.#warned = false;
    this.#ticks = 0;
    this.#fewest = Infinity;
  }
}
