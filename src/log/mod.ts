import {
  configureSync,
  getLogger,
  type Logger,
  type LogLevel,
  type LogRecord,
  resetSync,
  type Sink,
} from "@logtape/logtape";

/** Returns the logger of one stage, e.g. `stageLogger("control")`. */
export function stageLogger(stage: string): Logger {
  return getLogger(["sqm-autorate", stage]);
}

/** Upstream's level names (interfaces.md §4.3, §5.3). */
export type UpstreamLevel = "TRACE" | "DEBUG" | "INFO" | "WARN" | "ERROR" | "FATAL";

const TO_LOGTAPE: Record<UpstreamLevel, LogLevel> = {
  TRACE: "trace",
  DEBUG: "debug",
  INFO: "info",
  WARN: "warning",
  ERROR: "error",
  FATAL: "fatal",
};

const TO_UPSTREAM: Record<LogLevel, UpstreamLevel> = {
  trace: "TRACE",
  debug: "DEBUG",
  info: "INFO",
  warning: "WARN",
  error: "ERROR",
  fatal: "FATAL",
};

/** Maps an upstream level name to LogTape's. */
export function toLogtapeLevel(level: UpstreamLevel): LogLevel {
  return TO_LOGTAPE[level];
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** Renders a record as upstream does: `[LEVEL - YYYYmmddTHH:MM:SS]: message` (local time). */
export function formatRecord(record: LogRecord): string {
  const d = new Date(record.timestamp);
  const stamp = `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}T` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const text = record.message.map((part, i) =>
    i % 2 === 0 ? String(part) : typeof part === "string" ? part : JSON.stringify(part)
  ).join("");
  return `[${TO_UPSTREAM[record.level]} - ${stamp}]: ${text}\n`;
}

const encoder = new TextEncoder();

/** A sink writing upstream-formatted lines to stderr (stdout stays for command output). */
export const stderrSink: Sink = (record) => {
  Deno.stderr.writeSync(encoder.encode(formatRecord(record)));
};

/** Configures logging for the whole process at `level`; `sink` defaults to stderr. */
export function configureLogging(level: UpstreamLevel, options: { sink?: Sink } = {}): void {
  configureSync({
    reset: true,
    sinks: { main: options.sink ?? stderrSink },
    loggers: [
      { category: ["sqm-autorate"], lowestLevel: TO_LOGTAPE[level], sinks: ["main"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["main"] },
    ],
  });
}

/** Removes the logging configuration (tests). */
export function resetLogging(): void {
  resetSync();
}
