/**
 * How the Lua support logs a ready-made line, and takes one back from a logger, apart from the
 * engine so the worker host and the worker can use it without loading wasmoon.
 */
import type { Logger } from "../log/logger.ts";

/** Logs `text` verbatim (the logger would read `{…}` in a message as placeholders). */
export function logText(logger: Logger, level: LineLevel, text: string): void {
  logger[level]("{text}", { text });
}

/** The levels of the Lua support's lines (a logger's `warning` is `warn`). */
export type LineLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal";

/**
 * A logger (src/log/logger.ts) that hands `sink` each line's level and text: the `text` property
 * `logText` logs with, else the message itself.
 */
export function lineLogger(sink: (level: LineLevel, text: string) => void): Logger {
  const at = (level: LineLevel) => (message: unknown, props?: { text?: string }) => {
    sink(level, props?.text ?? String(message));
  };
  return {
    trace: at("trace"),
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    warning: at("warn"),
    error: at("error"),
    fatal: at("fatal"),
  } as unknown as Logger;
}
