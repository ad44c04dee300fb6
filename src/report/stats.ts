/**
 * The upstream statistics files (docs/formats.md §2–§3): the per-tick stats CSV and the speed-history
 * CSV, in Lua's number formats.
 */
import type { Logger } from "../log/logger.ts";
import type { Settings } from "../config/types.ts";
import type { StatsRow, StatsSink } from "../control/ports.ts";
import { RotatingCsvWriter } from "./csv_writer.ts";
import { denoFileStore, type FileStore } from "./store.ts";

/** Stats CSV header (upstream). */
export const STATS_HEADER = "times,timens,rxload,txload,deltadelaydown,deltadelayup,dlrate,uprate";
/** Speed-history CSV header (upstream). */
export const SPEED_HISTORY_HEADER = "time,counter,upspeed,downspeed";

/** C's `%f`: fixed, 6 decimals (`nan`/`inf` like glibc). */
export function formatF(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  // Both round the exact binary value; they differ only on exact ties, which for 6 decimals
  // are the odd multiples of 1/128 (e.g. 0.0078125): glibc rounds those half to even, while
  // toFixed rounds up. Multiplying by powers of two is exact, so the test is exact too.
  const x128 = x * 128;
  if (Number.isInteger(x128) && x128 % 2 !== 0 && Math.abs(x) < 1e9) {
    const lower = Math.floor(x * 1e6); // exact: x·1e6 = odd·7812.5
    const n = lower % 2 === 0 ? lower : lower + 1;
    return (n / 1e6).toFixed(6);
  }
  return x.toFixed(6);
}

/** C's `%d` for a number Lua passes (truncated toward zero). */
export function formatD(x: number): string {
  if (!Number.isFinite(x)) return "0";
  // The same text as toFixed(0) for an integer (also for -0 and from 1e21 on), for less.
  return String(Math.trunc(x));
}

/** Lua's stats row `%d,%d,%f,%f,%f,%f,%d,%d`. */
export function formatStatsRow(r: StatsRow): string {
  // One template, not an array joined: a row is built every decision (docs/footprint.md).
  return `${formatD(r.times)},${formatD(r.timens)},${formatF(r.rxload)},${formatF(r.txload)},` +
    `${formatF(r.deltadelaydown)},${formatF(r.deltadelayup)},${formatD(r.dlrate)},` +
    `${formatD(r.uprate)}`;
}

/** Lua's speed-history row `%f,%d,%f,%f`. */
export function formatSpeedHistoryRow(timeS: number, i: number, up: number, down: number): string {
  return `${formatF(timeS)},${formatD(i)},${formatF(up)},${formatF(down)}`;
}

/** The stats file is written about this often (s): every tenth row at EWMA's 0.5 s. */
export const STATS_FLUSH_S = 5;

/**
 * Rows buffered per write for a decision period of `periodS` (s): a controller that decides every
 * 0.1 s opens the file every 5 s too, not every second (docs/footprint.md, "CPU under load").
 */
export function statsRowsPerFlush(periodS: number): number {
  return Math.max(1, Math.round(STATS_FLUSH_S / periodS));
}

/** Options of the file statistics sink. */
export interface FileStatsOptions {
  /** File operations (default: the real file system). */
  store?: FileStore;
  /** Logger for write failures. */
  logger?: Logger;
  /** Rows buffered before a write (default 10). */
  flushEveryRows?: number;
  /** Keep the files a previous run left as `.1` (as `createStatsSink` does; default: empty them). */
  keepPrevious?: boolean;
}

/** The two upstream CSV files, rotated at `stats_max_kbytes` KiB. */
export class FileStatsSink implements StatsSink {
  readonly #stats: RotatingCsvWriter<StatsRow>;
  readonly #hist: RotatingCsvWriter;

  /** Creates the files lazily on the first flush (see `keepPrevious`). */
  constructor(
    settings: Pick<Settings, "stats_file" | "speedhist_file" | "stats_max_kbytes">,
    options: FileStatsOptions = {},
  ) {
    const common = {
      store: options.store ?? denoFileStore,
      maxBytes: settings.stats_max_kbytes * 1024,
      logger: options.logger,
      flushEveryRows: options.flushEveryRows,
      keepPrevious: options.keepPrevious,
    };
    this.#stats = new RotatingCsvWriter<StatsRow>(settings.stats_file, STATS_HEADER, {
      ...common,
      format: formatStatsRow,
      setting: "stats_file",
    });
    this.#hist = new RotatingCsvWriter(settings.speedhist_file, SPEED_HISTORY_HEADER, {
      ...common,
      setting: "speedhist_file",
    });
  }

  /** Queues one stats row (kept, not copied: the caller builds a new one per row). */
  statsRow(row: StatsRow): void {
    this.#stats.writeRow(row);
  }

  /** Queues a whole dump and writes it out. */
  speedHistory(timeS: number, up: readonly number[], down: readonly number[]): void {
    const n = Math.min(up.length, down.length);
    for (let i = 0; i < n; i++) {
      this.#hist.writeRow(formatSpeedHistoryRow(timeS, i, up[i], down[i]));
    }
    void this.#hist.flush();
  }

  /** Writes both files out (also creating them with their headers). */
  async flush(): Promise<void> {
    await Promise.all([this.#stats.flush(), this.#hist.flush()]);
  }
}

/**
 * The statistics sink the daemon should use: `undefined` when `suppress_statistics` is set,
 * else the upstream files. The files are created with their headers right away; those a
 * previous run left (a restart on SIGHUP, a respawn after a crash) are kept as `.1`, where
 * upstream emptied them (docs/formats.md §3.1).
 */
export async function createStatsSink(
  settings: Pick<
    Settings,
    "stats_file" | "speedhist_file" | "stats_max_kbytes" | "suppress_statistics"
  >,
  options: FileStatsOptions = {},
): Promise<StatsSink | undefined> {
  if (settings.suppress_statistics) return undefined;
  const sink = new FileStatsSink(settings, { keepPrevious: true, ...options });
  await sink.flush();
  return sink;
}
