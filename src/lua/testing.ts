/**
 * Test helpers of the Lua support: a logger that records lines, and readings.
 */
import type { Logger } from "../log/logger.ts";
import type { TickReadings } from "../control/ratecontroller_port.ts";
import { lineLogger } from "./log_text.ts";

/** One recorded log line. */
export interface LoggedLine {
  /** Method used: trace, debug, info, warn, error, fatal. */
  level: string;
  /** Rendered text. */
  text: string;
}

/** A logger (src/log/logger.ts) that keeps every line (our code always logs `"{text}", {text}`). */
export function recordingLogger(): { logger: Logger; lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  const logger = lineLogger((level, text) => {
    lines.push({ level, text });
  });
  return { logger, lines };
}

/** Plausible readings of one tick, with overrides. */
export function tickReadings(overrides: Partial<TickReadings> = {}): TickReadings {
  return {
    now_s: 100,
    dt: 0.5,
    rx_load: 0.5,
    tx_load: 0.4,
    down_del_stat: 2.5,
    up_del_stat: 1.5,
    down_utilisation: 30000,
    up_utilisation: 4800,
    cur_dl_rate: 60000,
    cur_ul_rate: 12000,
    dl_bytes: 1_875_000,
    ul_bytes: 300_000,
    dl_deltas: [0.4, 1.2, 2.5, 3.1, 9.8],
    ul_deltas: [0.5, 1.0, 1.5, 2.0, 4.0],
    ...overrides,
  };
}
