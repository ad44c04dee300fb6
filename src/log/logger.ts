/**
 * The program's loggers: categories, levels, message templates with structured properties, and
 * sinks, the part of LogTape's API the program used. In-house because LogTape cost the running
 * daemon about 1.3 MB of resident memory for that (its formatter loads `node:util`, and the rest
 * of the package comes along; docs/footprint.md, "Logging"). Records are shaped as LogTape's, so
 * sinks and formatters are unchanged (src/log/mod.ts).
 */

/** Severity, lowest first. */
export type LogLevel = "trace" | "debug" | "info" | "warning" | "error" | "fatal";

/** Each level's rank, lowest first. */
const RANK: Readonly<Record<LogLevel, number>> = {
  trace: 0,
  debug: 1,
  info: 2,
  warning: 3,
  error: 4,
  fatal: 5,
};

/** One log event. */
export interface LogRecord {
  /** The logger's category, e.g. `["sqm-autorate", "control"]`. */
  readonly category: readonly string[];
  /** Severity. */
  readonly level: LogLevel;
  /** The message: text and property values alternating, starting and ending with text. */
  readonly message: readonly unknown[];
  /** The message template as logged, e.g. `"setting {ifname} to {kbit} kbit/s"`. */
  readonly rawMessage: string;
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  /** The structured properties given with the message. */
  readonly properties: Record<string, unknown>;
}

/** Where records go. */
export type Sink = (record: LogRecord) => void;

/** Properties of a message, or a function computing them only when the record is written. */
export type LogProperties = Record<string, unknown> | (() => Record<string, unknown>);

/** A logger of one category. */
export interface Logger {
  /** The category. */
  readonly category: readonly string[];
  /** Logs at `trace`. */
  trace(message: string, properties?: LogProperties): void;
  /** Logs at `debug`. */
  debug(message: string, properties?: LogProperties): void;
  /** Logs at `info`. */
  info(message: string, properties?: LogProperties): void;
  /** Logs at `warning`. */
  warn(message: string, properties?: LogProperties): void;
  /** Logs at `warning`. */
  warning(message: string, properties?: LogProperties): void;
  /** Logs at `error`. */
  error(message: string, properties?: LogProperties): void;
  /** Logs at `fatal`. */
  fatal(message: string, properties?: LogProperties): void;
}

/** One configured category: records of it and below it, at `lowestLevel` and up, go to `sinks`. */
export interface LoggerConfig {
  /** Category prefix. */
  category: readonly string[];
  /** Lowest level written (default `trace`). */
  lowestLevel?: LogLevel;
  /** Names of the sinks. */
  sinks: readonly string[];
}

/** The whole configuration. */
export interface LogConfig {
  /** Sinks by name. */
  sinks: Record<string, Sink>;
  /** Configured categories. */
  loggers: readonly LoggerConfig[];
}

/** The current configuration; `generation` counts its changes (loggers cache their routes). */
let config: LogConfig = { sinks: {}, loggers: [] };
let generation = 0;

/**
 * Splits a template into text and values: `{name}` is the property `name`, `{{` and `}}` are
 * literal braces (as LogTape renders templates).
 */
export function renderMessage(template: string, properties: Record<string, unknown>): unknown[] {
  const out: unknown[] = [];
  let text = "";
  let i = 0;
  while (i < template.length) {
    const c = template[i];
    if ((c === "{" || c === "}") && template[i + 1] === c) {
      text += c;
      i += 2;
      continue;
    }
    if (c === "{") {
      const end = template.indexOf("}", i + 1);
      if (end > i) {
        out.push(text, properties[template.slice(i + 1, end).trim()]);
        text = "";
        i = end + 1;
        continue;
      }
    }
    text += c;
    i++;
  }
  out.push(text);
  return out;
}

class CategoryLogger implements Logger {
  readonly category: readonly string[];
  #generation = -1;
  #routes: { lowest: number; sinks: Sink[] }[] = [];
  /** The lowest rank any route writes: a call below it returns at once, allocating nothing. */
  #lowest = Infinity;

  constructor(category: readonly string[]) {
    this.category = category;
  }

  /** The routes of this category under the current configuration. */
  #current(): { lowest: number; sinks: Sink[] }[] {
    if (this.#generation !== generation) {
      this.#routes = config.loggers.filter((l) =>
        l.category.every((c, i) => this.category[i] === c)
      )
        .map((l) => ({
          lowest: RANK[l.lowestLevel ?? "trace"],
          sinks: l.sinks.flatMap((name) => config.sinks[name] ?? []),
        }));
      this.#lowest = Math.min(...this.#routes.map((r) => r.lowest));
      this.#generation = generation;
    }
    return this.#routes;
  }

  #log(level: LogLevel, message: string, properties?: LogProperties): void {
    const rank = RANK[level];
    const routes = this.#current();
    if (rank < this.#lowest) return;
    const props = typeof properties === "function" ? properties() : properties ?? {};
    const record: LogRecord = {
      category: this.category,
      level,
      message: renderMessage(message, props),
      rawMessage: message,
      timestamp: Date.now(),
      properties: props,
    };
    for (const r of routes) {
      if (rank >= r.lowest) { for (const sink of r.sinks) sink(record); }
    }
  }

  trace(message: string, properties?: LogProperties): void {
    this.#log("trace", message, properties);
  }
  debug(message: string, properties?: LogProperties): void {
    this.#log("debug", message, properties);
  }
  info(message: string, properties?: LogProperties): void {
    this.#log("info", message, properties);
  }
  warn(message: string, properties?: LogProperties): void {
    this.#log("warning", message, properties);
  }
  warning(message: string, properties?: LogProperties): void {
    this.#log("warning", message, properties);
  }
  error(message: string, properties?: LogProperties): void {
    this.#log("error", message, properties);
  }
  fatal(message: string, properties?: LogProperties): void {
    this.#log("fatal", message, properties);
  }
}

const loggers = new Map<string, CategoryLogger>();

/** The logger of `category` (one per category); it writes nothing until configured. */
export function getLogger(category: readonly string[]): Logger {
  const key = category.join("\0");
  let logger = loggers.get(key);
  if (logger === undefined) {
    logger = new CategoryLogger([...category]);
    loggers.set(key, logger);
  }
  return logger;
}

/** Replaces the configuration of every logger. */
export function configureLoggers(next: LogConfig): void {
  config = next;
  generation++;
}
