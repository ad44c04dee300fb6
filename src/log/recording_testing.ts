/** Tests: a logger that keeps what it is told, as `LEVEL message` lines with the values filled in. */
import type { Logger } from "./logger.ts";

/** A logger recording `LEVEL message` lines (`{name}` replaced by its value) into `lines`. */
export function recordingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (m: string, p?: unknown) => {
    const values = (typeof p === "function" ? p() : p ?? {}) as Record<string, unknown>;
    lines.push(`${level} ${m.replace(/\{(\w+)\}/g, (_, k) => String(values[k]))}`);
  };
  const logger: Logger = {
    category: ["test"],
    trace: at("TRACE"),
    debug: at("DEBUG"),
    info: at("INFO"),
    warn: at("WARN"),
    warning: at("WARN"),
    error: at("ERROR"),
    fatal: at("FATAL"),
  };
  return { logger, lines };
}
