/**
 * Keeps a failing Lua script from flooding the log: each distinct message is logged in full
 * (with its traceback) the first time; repeats are only counted, and the count is logged as one
 * line per period (default a minute) while they go on. Used by the plugin manager and the Lua
 * ratecontroller (docs/plugins.md, "When a plugin fails").
 */
import type { Logger } from "../log/logger.ts";
import { logText } from "./log_text.ts";

/** Period of the repeat-count lines, seconds. */
export const REPEAT_SUMMARY_PERIOD_S = 60;
/** Distinct messages remembered per script; beyond that every message counts as a repeat. */
const MAX_DISTINCT = 32;

/** Options of {@link FailureLog}. */
export interface FailureLogOptions {
  /** Where lines go. */
  logger: Logger;
  /** Monotonic seconds (the injected clock). */
  nowS: () => number;
  /** Period of the repeat-count lines, seconds (default {@link REPEAT_SUMMARY_PERIOD_S}). */
  periodS?: number;
}

/**
 * One kind of line (errors or warnings): each distinct text logged the first time, its repeats
 * counted until the count is due.
 */
class Repeats {
  readonly #seen = new Set<string>();
  #count = 0;
  #last = "";
  #start = 0;

  /** Whether `text` is new (remembered now); else it is counted as a repeat at `now`. */
  isNew(text: string, now: number): boolean {
    const key = identity(text);
    if (!this.#seen.has(key) && this.#seen.size < MAX_DISTINCT) {
      this.#seen.add(key);
      return true;
    }
    if (this.#count === 0) this.#start = now;
    this.#count++;
    this.#last = firstLine(text);
    return false;
  }

  /**
   * The repeats since the count began, once `periodS` has passed since (then counting anew);
   * undefined when none are due.
   */
  due(now: number, periodS: number): { count: number; s: number; last: string } | undefined {
    if (this.#count === 0 || now - this.#start < periodS) return undefined;
    const due = { count: this.#count, s: Math.round(now - this.#start), last: this.#last };
    this.#count = 0;
    return due;
  }
}

/** One script's failure log. */
export class FailureLog {
  readonly #logger: Logger;
  readonly #nowS: () => number;
  readonly #periodS: number;
  readonly #failures = new Repeats();
  readonly #warnings = new Repeats();

  /** Builds an empty log. */
  constructor(options: FailureLogOptions) {
    this.#logger = options.logger;
    this.#nowS = options.nowS;
    this.#periodS = options.periodS ?? REPEAT_SUMMARY_PERIOD_S;
  }

  /**
   * Reports one failure. `head` names the script and what failed (logged every first time);
   * `message` is the error with its traceback (the identity of the failure).
   */
  failure(head: string, message: string): void {
    const now = this.#nowS();
    this.#flush(now, head);
    if (this.#failures.isNew(message, now)) {
      logText(this.#logger, "error", `${head}: ${oneLine(message)}`);
    }
  }

  /**
   * Reports results that were ignored (`text`, the whole warning; `head` names the script and
   * call, for the count's line): logged at WARN the first time, then counted like a failure's
   * repeats, so a script that returns a bad value every few ticks, alternating with good ones,
   * gives one line a minute (docs/plugins.md, its Results tables). Until the thirtieth session only
   * a warning equal to the previous call's was held back: a bad value every third tick logged twice
   * every 1.5 s.
   */
  warning(head: string, text: string): void {
    const now = this.#nowS();
    this.#flushWarnings(now, head);
    if (this.#warnings.isNew(text, now)) logText(this.#logger, "warn", text);
  }

  /** Call after a successful call, so a count is not held back until the next failure. */
  success(head: string): void {
    const now = this.#nowS();
    this.#flush(now, head);
    this.#flushWarnings(now, head);
  }

  #flush(now: number, head: string): void {
    const due = this.#failures.due(now, this.#periodS);
    if (due === undefined) return;
    logText(
      this.#logger,
      "error",
      `${head}: failed ${due.count} more times in the last ${due.s} s with errors already logged ` +
        `(last: ${due.last})`,
    );
  }

  #flushWarnings(now: number, head: string): void {
    const due = this.#warnings.due(now, this.#periodS);
    if (due === undefined) return;
    logText(
      this.#logger,
      "warn",
      `${head}: ${due.count} more warnings already logged in the last ${due.s} s ` +
        `(last: ${due.last})`,
    );
  }
}

/**
 * What makes two failures the same: the message and traceback without what differs from call to
 * call for one fault, the levels a deep traceback skips (a runaway recursion stopped by the time
 * limit at another depth every tick) and addresses. Until the thirtieth session each such call
 * was a distinct error and logged its traceback, 32 lines before the repeats were counted.
 */
export function identity(message: string): string {
  return message.replace(/\(skipping \d+ levels\)/g, "(skipping levels)").replace(
    /0x[0-9a-f]+/g,
    "0x",
  );
}

function firstLine(message: string): string {
  const i = message.indexOf("\n");
  return i < 0 ? message : message.slice(0, i);
}

/** A traceback as one log line (issue: multi-line messages become one line). */
export function oneLine(message: string): string {
  return message.split("\n").map((l) => l.trim()).filter((l) => l !== "").join(" | ");
}
