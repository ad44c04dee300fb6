/** Files of a simulation: per-run time series CSV and the SVG plot. */
import { join } from "../util/posix_path.ts";
import type { RunResult } from "./engine.ts";

/** A file-name-safe form of a run label. */
export function slug(label: string): string {
  return label.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "run";
}

/**
 * The time series of a run as CSV: one row per 0.1 s with capacity, shaper rate (empty without
 * shaper), throughput (kbit/s) and added delay (ms, the largest in the interval) per direction.
 */
export function seriesCsv(run: RunResult): string {
  const { down, up, stepS } = run.series;
  const lines = [
    "time_s,down_capacity_kbit,down_shaper_kbit,down_throughput_kbit,down_delay_ms,down_loaded," +
    "up_capacity_kbit,up_shaper_kbit,up_throughput_kbit,up_delay_ms,up_loaded",
  ];
  const f = (x: number) => (Number.isNaN(x) ? "" : String(Math.round(x * 100) / 100));
  for (let i = 0; i < down.capacity.length; i++) {
    lines.push([
      ((i + 1) * stepS).toFixed(1),
      f(down.capacity[i]),
      f(down.shaper[i]),
      f(down.throughput[i]),
      f(down.delay[i]),
      down.loaded[i],
      f(up.capacity[i]),
      f(up.shaper[i]),
      f(up.throughput[i]),
      f(up.delay[i]),
      up.loaded[i],
    ].join(","));
  }
  return lines.join("\n") + "\n";
}

/** Writes `series-<run>.csv` per run and `plot.svg` into `dir`; returns the paths written. */
export async function writeRunFiles(
  dir: string,
  runs: readonly RunResult[],
  options: { svg: string; svgName?: string },
): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const run of runs) {
    const path = join(dir, `series-${slug(run.label)}.csv`);
    await Deno.writeTextFile(path, seriesCsv(run));
    written.push(path);
  }
  const svgPath = join(dir, options.svgName ?? "plot.svg");
  await Deno.writeTextFile(svgPath, options.svg);
  written.push(svgPath);
  return written;
}
