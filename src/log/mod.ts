/**
 * Logging setup and the record formats (docs/formats.md §5, docs/observability.md); the loggers
 * themselves are src/log/logger.ts.
 */
import {
  configureLoggers,
  getLogger,
  type Logger,
  type LogLevel,
  type LogRecord,
  type Sink,
} from "./logger.ts";

export type { Logger, LogLevel, LogRecord, Sink };

/** Returns the logger of one stage, e.g. `stageLogger("control")`. */
export function stageLogger(stage: string): Logger {
  return getLogger(["sqm-autorate", stage]);
}

/** Upstream's level names (docs/formats.md §5). */
export type UpstreamLevel = "TRACE" | "DEBUG" | "INFO" | "WARN" | "ERROR" | "FATAL";

const TO_LEVEL: Record<UpstreamLevel, LogLevel> = {
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

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** The message of a record with its values filled in. */
function messageText(record: LogRecord): string {
  return record.message.map((part, i) =>
    i % 2 === 0 ? String(part) : typeof part === "string" ? part : JSON.stringify(part)
  ).join("");
}

/**
 * A message on one line: a multi-line value (a Lua traceback, a tool's stderr) has its line
 * breaks replaced by " | ", so every text record is one line for grep, syslog and rotation.
 * (JSON lines escape line breaks themselves.)
 */
function oneLine(text: string): string {
  return text.trimEnd().replace(/[ \t]*\r?\n\s*/g, " | ");
}

/** Renders a record as upstream does: `[LEVEL - YYYYmmddTHH:MM:SS]: message` (local time). */
export function formatRecord(record: LogRecord): string {
  const d = new Date(record.timestamp);
  const stamp = `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}T` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return `[${TO_UPSTREAM[record.level]} - ${stamp}]: ${oneLine(messageText(record))}\n`;
}

/**
 * Renders a record as one JSON object on one line, for log shippers: `time` (ISO 8601 UTC),
 * `level` (upstream's name), `stage` (the logger category below `sqm-autorate`), `message`
 * (values filled in) and the record's structured properties under their own names. See
 * docs/observability.md.
 */
export function formatRecordJson(record: LogRecord): string {
  const line: Record<string, unknown> = {
    time: new Date(record.timestamp).toISOString(),
    level: TO_UPSTREAM[record.level],
    stage: record.category.slice(1).join(".") || record.category.join("."),
    message: messageText(record),
  };
  for (const [key, value] of Object.entries(record.properties)) {
    if (!(key in line)) line[key] = value instanceof Error ? String(value) : value;
  }
  return `${JSON.stringify(line, jsonSafe)}\n`;
}

/** JSON.stringify replacer: bigints as numbers-in-strings instead of a thrown TypeError. */
function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

/** Log line formats (`log_format`). */
export type LogFormat = "text" | "json";

/** The record formatter of a format. */
export function formatterOf(format: LogFormat): (record: LogRecord) => string {
  return format === "json" ? formatRecordJson : formatRecord;
}

const encoder = new TextEncoder();

/**
 * How log lines show their syslog priority (`log_priority`; docs/operation.md, "Log priority"):
 * `none` writes every line to stderr as it is; `stream` writes TRACE, DEBUG and INFO to stdout and
 * WARN and up to stderr, which procd logs at `daemon.info` and `daemon.err`; `prefix` writes every
 * line to stderr starting with its priority as sd-daemon(3) spells it (`<6>`), which journald takes
 * off and files the line at.
 */
export type LogPriority = "none" | "stream" | "prefix";

/** Each level's syslog priority (sd-daemon(3): 2 crit, 3 err, 4 warning, 6 info, 7 debug). */
const SYSLOG_PRIORITY: Readonly<Record<LogLevel, number>> = {
  trace: 7,
  debug: 7,
  info: 6,
  warning: 4,
  error: 3,
  fatal: 2,
};

/** `<N>`, the sd-daemon(3) prefix of a line at `level` (`log_priority prefix`). */
export function syslogPrefix(level: LogLevel): string {
  return `<${SYSLOG_PRIORITY[level]}>`;
}

/**
 * A sink writing lines in `format` to stderr, or to stdout and stderr by level, as `priority`
 * says (stdout otherwise stays for command output).
 */
export function consoleSinkOf(format: LogFormat, priority: LogPriority = "none"): Sink {
  const render = formatterOf(format);
  return (record) => {
    const below = SYSLOG_PRIORITY[record.level] > SYSLOG_PRIORITY.warning;
    const line = priority === "prefix"
      ? `${syslogPrefix(record.level)}${render(record)}`
      : render(record);
    try {
      (priority === "stream" && below ? Deno.stdout : Deno.stderr).writeSync(encoder.encode(line));
    } catch {
      // The stream is gone (the terminal of a foreground run closed: EIO; the reader of a pipe
      // ended: EPIPE). A log line must never stop the daemon: it would end without setting its
      // exit rate (docs/operation.md, "Logging").
    }
  };
}

/**
 * Configures logging for the whole process at `level`; `sink` defaults to stderr (or stdout and
 * stderr: `priority`, default `none`) in `format` (default `text`).
 */
export function configureLogging(
  level: UpstreamLevel,
  options: { sink?: Sink; format?: LogFormat; priority?: LogPriority } = {},
): void {
  configureLoggers({
    sinks: { main: options.sink ?? consoleSinkOf(options.format ?? "text", options.priority) },
    loggers: [{ category: ["sqm-autorate"], lowestLevel: TO_LEVEL[level], sinks: ["main"] }],
  });
}

/** Removes the logging configuration (tests). */
export function resetLogging(): void {
  configureLoggers({ sinks: {}, loggers: [] });
}
