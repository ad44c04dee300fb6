/**
 * How the Lua support logs a ready-made line, apart from the engine so the worker host can use
 * it without loading wasmoon.
 */
import type { Logger } from "../log/logger.ts";

/** Logs `text` verbatim (the logger would read `{…}` in a message as placeholders). */
export function logText(
  logger: Logger,
  level: "trace" | "debug" | "info" | "warn" | "error" | "fatal",
  text: string,
): void {
  logger[level]("{text}", { text });
}
