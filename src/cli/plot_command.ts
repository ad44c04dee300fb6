/**
 * `sqm-autorate plot STATS.csv [--speed-hist FILE] --out FILE.svg`: draws the daemon's
 * statistics files (and the rotated `.1` copy) for post-mortems. Thresholds come from the usual
 * settings (flags, env, UCI file), so on the router the picture marks the configured ones.
 */
import type { Command } from "commander";
import { ExitCode } from "../util/exit_codes.ts";
import { type CliIo, processIo } from "./io.ts";
import { addSettingOptions, settingsFromCommand } from "./settings_options.ts";
import {
  readSpeedHistoryFile,
  readStatsFiles,
  type SpeedHistoryDump,
  StatsFileError,
} from "../report/stats_reader.ts";
import { renderStatsPlot } from "../report/stats_plot.ts";

/** Options of `registerPlotCommand`. */
export interface PlotCommandOptions {
  /** Output channels (default: the process's stdout / stderr). */
  io?: CliIo;
  /** Receives the exit code. */
  setExitCode?: (code: number) => void;
}

/** Adds `plot` to the program. */
export function registerPlotCommand(program: Command, options: PlotCommandOptions = {}): void {
  const io = options.io ?? processIo;
  const setExit = options.setExitCode ?? (() => {});
  addSettingOptions(
    program.command("plot")
      .description(
        "draw a statistics CSV (and its rotated .1 copy) as an SVG: rates, loads and delay " +
          "over time with the thresholds marked",
      )
      .argument("<stats>", "statistics CSV written by the daemon (stats_file)")
      .requiredOption("--out <file.svg>", "SVG file to write")
      .option("--speed-hist <file>", "speed-history CSV (speedhist_file): adds its last dump"),
  ).action(async (stats: string, flags: { out: string; speedHist?: string }, cmd: Command) => {
    setExit(await plotAction(stats, flags, { io, cmd }));
  });
}

async function plotAction(
  statsPath: string,
  flags: { out: string; speedHist?: string },
  ctx: { io: CliIo; cmd: Command },
): Promise<number> {
  const { io } = ctx;
  const settings = settingsFromCommand(ctx.cmd).settings;
  let speedHistory: SpeedHistoryDump[] | undefined;
  let svg: string;
  let summary: string;
  try {
    const data = await readStatsFiles(statsPath);
    for (const f of data.partial) {
      io.err(`sqm-autorate plot: ${f}: the last line is incomplete and was left out\n`);
    }
    if (flags.speedHist !== undefined) speedHistory = await readSpeedHistoryFile(flags.speedHist);
    svg = renderStatsPlot(data.rows, {
      source: data.files.map((f) => f.split("/").pop()).join(" + "),
      thresholds: {
        dlDelayMs: settings.dl_max_delta_owd,
        ulDelayMs: settings.ul_max_delta_owd,
        highLoad: settings.high_load_level,
      },
      speedHistory,
    });
    summary = `${data.rows.length} ticks from ${data.files.join(", ")}`;
  } catch (e) {
    if (!(e instanceof StatsFileError)) throw e;
    io.err(`sqm-autorate plot: ${e.message}\n`);
    return ExitCode.DATA;
  }
  try {
    await Deno.writeTextFile(flags.out, svg);
  } catch (e) {
    io.err(`sqm-autorate plot: cannot write ${flags.out}: ${(e as Error).message}\n`);
    return ExitCode.FAILURE;
  }
  io.out(`wrote ${flags.out}: ${summary}\n`);
  return ExitCode.OK;
}
