/**
 * Reads the statistics files back (for `sqm-autorate plot`): the per-tick stats CSV and the
 * speed-history CSV in the formats `stats.ts` writes. Parsing is pure (text in, rows out) so it
 * is tested without files; `readStatsFiles` adds the rotated `.1` copy.
 */
import { SPEED_HISTORY_HEADER, STATS_HEADER } from "./stats.ts";
import type { StatsRow } from "../control/ports.ts";
import { errorText } from "../util/error_text.ts";

/** A statistics file that cannot be read as one: names the file and line. */
export class StatsFileError extends Error {
  /** `where` is `FILE` or `FILE:LINE`. */
  constructor(where: string, message: string) {
    super(`${where}: ${message}`);
    this.name = "StatsFileError";
  }
}

/** Rows parsed from one file, and whether a partial last line was dropped. */
export interface ParsedStats {
  /** Complete rows in file order. */
  rows: StatsRow[];
  /** The text ended inside a line (a write cut short); that line was ignored. */
  droppedPartialLine: boolean;
}

/** C's `%f`/`%d` output back to a number (`nan`, `inf` and `-inf` included); else undefined. */
function parseNumber(field: string): number | undefined {
  const f = field.trim();
  if (f === "nan" || f === "-nan") return NaN;
  if (f === "inf") return Infinity;
  if (f === "-inf") return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(f)) return undefined;
  return Number(f);
}

/**
 * Splits `text` into complete lines; a last line without its newline was cut short by a crash
 * or a copy in progress (the writer always ends a row with one), so it is left out.
 */
function completeLines(text: string): { lines: string[]; partial: boolean } {
  const lines = text.split("\n");
  const last = lines.pop() ?? "";
  return { lines, partial: last.trim() !== "" };
}

/** Parses a stats CSV; `name` is used in error messages. */
export function parseStatsCsv(text: string, name: string): ParsedStats {
  const { lines, partial } = completeLines(text);
  if (lines.length === 0) {
    throw new StatsFileError(name, "empty file (expected the header " + STATS_HEADER + ")");
  }
  if (lines[0].trim() !== STATS_HEADER) {
    throw new StatsFileError(
      `${name}:1`,
      `not a statistics file: header is "${lines[0].slice(0, 80)}", expected "${STATS_HEADER}"`,
    );
  }
  const rows: StatsRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    const raw = lines[i].trim();
    if (raw === "") continue;
    const f = raw.split(",");
    if (f.length !== 8) {
      throw new StatsFileError(`${name}:${i + 1}`, `expected 8 fields, found ${f.length}`);
    }
    const parsed = f.map(parseNumber);
    const v: number[] = [];
    for (let k = 0; k < 8; k++) {
      const x = parsed[k];
      // Only loads and delays may be nan (no reflector answered); times and rates never are.
      if (x === undefined || (Number.isNaN(x) && (k < 2 || k > 5))) {
        throw new StatsFileError(
          `${name}:${i + 1}`,
          `column ${STATS_HEADER.split(",")[k]} is not a number: "${f[k]}"`,
        );
      }
      v.push(x);
    }
    rows.push({
      times: v[0],
      timens: v[1],
      rxload: v[2],
      txload: v[3],
      deltadelaydown: v[4],
      deltadelayup: v[5],
      dlrate: v[6],
      uprate: v[7],
    });
  }
  return { rows, droppedPartialLine: partial };
}

/** One speed-history dump: the remembered safe rates at one time. */
export interface SpeedHistoryDump {
  /** Seconds since the controller started. */
  timeS: number;
  /** Safe upload rates, kbit/s. */
  up: number[];
  /** Safe download rates, kbit/s. */
  down: number[];
}

/** Parses a speed-history CSV into dumps (rows with the same time form one dump). */
export function parseSpeedHistoryCsv(text: string, name: string): SpeedHistoryDump[] {
  const { lines } = completeLines(text);
  if (lines.length === 0 || lines[0].trim() !== SPEED_HISTORY_HEADER) {
    throw new StatsFileError(
      `${name}:1`,
      `not a speed-history file: expected the header "${SPEED_HISTORY_HEADER}"`,
    );
  }
  const dumps: SpeedHistoryDump[] = [];
  for (let i = 1; i < lines.length; i++) {
    const raw = lines[i].trim();
    if (raw === "") continue;
    const f = raw.split(",");
    const v = f.map(parseNumber);
    if (f.length !== 4 || v.some((x) => x === undefined || !Number.isFinite(x))) {
      throw new StatsFileError(`${name}:${i + 1}`, `expected 4 numbers, found "${raw}"`);
    }
    const [timeS, , up, down] = v as number[];
    let dump = dumps.at(-1);
    if (dump === undefined || dump.timeS !== timeS) {
      dump = { timeS, up: [], down: [] };
      dumps.push(dump);
    }
    dump.up.push(up);
    dump.down.push(down);
  }
  return dumps;
}

/** What `readStatsFiles` found. */
export interface StatsFiles {
  /** Rows of the rotated copy (if any) then the file, sorted by time. */
  rows: StatsRow[];
  /** The files read, oldest first. */
  files: string[];
  /** Files whose partial last line was left out. */
  partial: string[];
}

async function readText(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "no such file" : errorText(e);
    throw new StatsFileError(path, `cannot read: ${why}`);
  }
}

/**
 * Reads a stats CSV and, unless `path` already is one, its rotated copy `path.1` when it exists
 * (the older part of the same run, see docs/observability.md).
 */
export async function readStatsFiles(path: string): Promise<StatsFiles> {
  const files: string[] = [];
  const rotated = `${path}.1`;
  if (!path.endsWith(".1")) {
    try {
      await Deno.stat(rotated);
      files.push(rotated);
    } catch {
      // no rotated copy: fine
    }
  }
  files.push(path);
  const rows: StatsRow[] = [];
  const partial: string[] = [];
  for (const f of files) {
    const parsed = parseStatsCsv(await readText(f), f);
    rows.push(...parsed.rows);
    if (parsed.droppedPartialLine) partial.push(f);
  }
  if (rows.length === 0) {
    throw new StatsFileError(path, "no statistics rows (the daemon writes one per tick)");
  }
  rows.sort((a, b) => a.times - b.times || a.timens - b.timens);
  return { rows, files, partial };
}

/** Reads a speed-history CSV. */
export async function readSpeedHistoryFile(path: string): Promise<SpeedHistoryDump[]> {
  return parseSpeedHistoryCsv(await readText(path), path);
}
