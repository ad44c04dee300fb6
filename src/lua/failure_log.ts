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

/** One script's failure log. */
export class FailureLog {
  readonly #logger: Logger;
  readonly #nowS: () => number;
  readonly #periodS: number;
  readonly #seen = new Set<string>();
  #repeats = 0;
  #lastRepeat = "";
  #periodStart = 0;
  readonly #warned = new Set<string>();
  #warnRepeats = 0;
  #lastWarning = "";
  #warnStart = 0;

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
    const key = identity(message);
    if (!this.#seen.has(key) && this.#seen.size < MAX_DISTINCT) {
      this.#seen.add(key);
      logText(this.#logger, "error", `${head}: ${oneLine(message)}`);
      return;
    }
    if (this.#repeats === 0) this.#periodStart = now;
    this.#repeats++;
    this.#lastRepeat = firstLine(message);
  }

  /**
   * Reports results that were ignored (`text`, the whole warning; `head` names the script and
   * call, for the count's line): logged at
   * WARN the first time, then counted like a failure's repeats, so a script that returns a bad
   * value every few ticks, alternating with good ones, gives one line a minute (docs/plugins.md, its
   * Results tables). Until the thirtieth session only a warning equal to the
   * previous call's was held back: a bad value every third tick logged twice every 1.5 s.
   */
  warning(head: string, text: string): void {
    const now = this.#nowS();
    this.#flushWarnings(now, head);
    const key = identity(text);
    if (!this.#warned.has(key) && this.#warned.size < MAX_DISTINCT) {
      this.#warned.add(key);
      logText(this.#logger, "warn", text);
      return;
    }
    if (this.#warnRepeats === 0) this.#warnStart = now;
    this.#warnRepeats++;
    this.#lastWarning = firstLine(text);
  }

  #flushWarnings(now: number, head: string): void {
    if (this.#warnRepeats === 0 || now - this.#warnStart < this.#periodS) return;
    logText(
      this.#logger,
      "warn",
      `${head}: ${this.#warnRepeats} more warnings already logged in the last ${
        Math.round(now - this.#warnStart)
      } s (last: ${this.#lastWarning})`,
    );
    this.#warnRepeats = 0;
  }

  /** Call after a successful call, so a count is not held back until the next failure. */
  success(head: string): void {
    if (this.#repeats > 0) this.#flush(this.#nowS(), head);
    if (this.#warnRepeats > 0) this.#flushWarnings(this.#nowS(), head);
  }

  #flush(now: number, head: string): void {
    if (this.#repeats === 0 || now - this.#periodStart < this.#periodS) return;
    logText(
      this.#logger,
      "error",
      `${head}: failed ${this.#repeats} more times in the last ${
        Math.round(now - this.#periodStart)
      } s with errors already logged (last: ${this.#lastRepeat})`,
    );
    this.#repeats = 0;
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
