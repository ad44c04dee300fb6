/**
 * `sqm-autorate plot STATS.csv [--speed-hist FILE] --out FILE.svg`: draws the daemon's
 * statistics files (and the rotated `.1` copy) for post-mortems. Thresholds come from the usual
 * settings (flags, env, UCI file), so on the router the picture marks the configured ones.
 */
import { ExitCode } from "../util/exit_codes.ts";
import { type CliIo, processIo } from "./io.ts";
import { settingOptions, settingsFromArgs } from "./settings_options.ts";
import type { CommandSpec, OptionSpec, ParsedArgs } from "./args.ts";
import {
  readSpeedHistoryFile,
  readStatsFiles,
  type SpeedHistoryDump,
  StatsFileError,
} from "../report/stats_reader.ts";
import { renderStatsPlot } from "../report/stats_plot.ts";
import { errorText } from "../util/error_text.ts";

/** Options of `plotCommand`. */
export interface PlotCommandOptions {
  /** Output channels (default: the process's stdout / stderr). */
  io?: CliIo;
}

/** `plot`'s own options; the settings' options follow them. */
const PLOT_OPTIONS: readonly OptionSpec[] = [
  { long: "out", value: "file.svg", required: true, help: "SVG file to write" },
  {
    long: "speed-hist",
    value: "file",
    help: "speed-history CSV (speedhist_file): adds its last dump",
  },
];

/** The `plot` command. */
export function plotCommand(options: PlotCommandOptions = {}): CommandSpec {
  const io = options.io ?? processIo;
  return {
    name: "plot",
    description: "draw a statistics CSV (and its rotated .1 copy) as an SVG: rates, loads and " +
      "delay over time with the thresholds marked",
    arguments: [
      { name: "stats", required: true, help: "statistics CSV written by the daemon (stats_file)" },
    ],
    // Only the thresholds are drawn: the interfaces and base rates are not needed.
    options: [...PLOT_OPTIONS, ...settingOptions({ unrequired: () => "(not needed)" })],
    run: (args) => plotAction(args, io),
  };
}

async function plotAction(args: ParsedArgs, io: CliIo): Promise<number> {
  const statsPath = args.positionals[0];
  const out = args.string("out")!;
  const speedHist = args.string("speed-hist");
  const settings = settingsFromArgs(args).settings;
  let speedHistory: SpeedHistoryDump[] | undefined;
  let svg: string;
  let summary: string;
  try {
    const data = await readStatsFiles(statsPath);
    for (const f of data.partial) {
      io.err(`sqm-autorate plot: ${f}: the last line is incomplete and was left out\n`);
    }
    if (speedHist !== undefined) speedHistory = await readSpeedHistoryFile(speedHist);
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
    await Deno.writeTextFile(out, svg);
  } catch (e) {
    io.err(`sqm-autorate plot: cannot write ${out}: ${errorText(e)}\n`);
    return ExitCode.CANT_CREATE;
  }
  io.out(`wrote ${out}: ${summary}\n`);
  return ExitCode.OK;
}
