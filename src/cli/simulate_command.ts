/**
 * `sqm-autorate simulate`: runs the real control pipeline against a modelled link in virtual
 * time. Needs no interfaces, no root and no pinger tools.
 */
import { type Command, Option } from "commander";
import type { Settings } from "../config/types.ts";
import { readUciFile, resolveSettings as resolveFromInput } from "../config/mod.ts";
import { addSettingOptions, flagValuesFrom } from "./settings_options.ts";
import { ExitCode } from "../util/exit_codes.ts";
import { type CliIo, processIo } from "./io.ts";
import { configureLogging, formatterOf, resetLogging } from "../log/mod.ts";
import {
  BUILTIN_TRACES,
  type CapacityTrace,
  formatSummaryTable,
  isLoadProfile,
  LOAD_PROFILES,
  type LoadProfile,
  loadTrace,
  renderSvg,
  type RunResult,
  simulate,
  type SimulateOptions,
  summaryOf,
  TraceParseError,
  withTraceBaseRates,
} from "../sim/mod.ts";
import { daemonPipeline } from "../sim/pipeline.ts";
import { type PluginSections, pluginSectionsFrom } from "../lua/config.ts";
import { LuaRatecontrollerError, ScriptNotFoundError } from "../lua/errors.ts";
import { controllerFailureExitCode, RatecontrollerConfigError } from "../ratecontroller/mod.ts";
import { CONGESTION_CONTROLS, type CongestionControl } from "../sim/tcp.ts";
import { writeRunFiles } from "../sim/output.ts";
import { FileStatsSink } from "../report/mod.ts";
import { join } from "node:path";

/** Options of `registerSimulateCommand`. */
export interface SimulateCommandOptions {
  /**
   * Resolves the settings from the subcommand's setting flags. Default: the flags over the
   * UCI file given with `--config` over the table defaults (no environment and no implicit
   * /etc/config file: a simulation should not depend on the machine it runs on).
   */
  resolveSettings?: (cmd: Command) => Settings;
  /** Output channels (default: the process's stdout / stderr). */
  io?: CliIo;
  /** Receives the exit code (default: ignored; errors are thrown as messages on stderr). */
  setExitCode?: (code: number) => void;
  /** Whether stderr is a terminal (progress bar). Default: `Deno.stderr.isTerminal()`. */
  stderrIsTerminal?: boolean;
}

/** The parsed `simulate` flags. */
interface SimulateFlags {
  trace: string;
  duration: string;
  seed: string;
  load: string;
  compare?: boolean;
  out?: string;
  svg?: string;
  json?: boolean;
  reflectors: string;
  loss: string;
  bufferMs: string;
  bufferScales?: boolean;
  downShaperOnLan?: boolean;
  flows: string;
  bulkRttMs: string;
  tcp: string;
}

/** `settings.plugin(name)` for Lua scripts: the sections of the `--config` file, if any. */
function pluginSectionsOf(cmd: Command): PluginSections {
  const configPath: string | undefined = cmd.getOptionValue("config");
  return pluginSectionsFrom(
    configPath === undefined ? undefined : readUciFile(configPath, { explicit: true }),
  );
}

/** Lua's own `math.random` seed for a run: derived from `--seed`, never drawn from its streams. */
export function luaSeedOf(seed: number): number {
  return (Math.imul(seed ^ 0x4c7561, 0x9e3779b1) >>> 0) % 2 ** 31;
}

function defaultResolve(cmd: Command): Settings {
  const configPath: string | undefined = cmd.getOptionValue("config");
  const uci = configPath === undefined ? undefined : readUciFile(configPath, { explicit: true });
  return resolveFromInput({ flags: flagValuesFrom(cmd), uci }).settings;
}

/**
 * Adds `simulate` to `program`, with every setting flag (`--rate-controller`,
 * `--plugin-scripts`, thresholds, …) plus the simulator's own flags.
 */
export function registerSimulateCommand(
  program: Command,
  options: SimulateCommandOptions = {},
): void {
  const cmd = program.command("simulate")
    .description(
      "run the controller against a simulated link in virtual time (no root, no interfaces); " +
        "prints a summary, optionally writes stats CSV and an SVG plot",
    )
    .option(
      "--trace <name|file>",
      `capacity trace: ${BUILTIN_TRACES.join(", ")}, or a CSV file time_s,down_kbit,up_kbit`,
      "step",
    )
    .option("--duration <seconds>", "simulated seconds", "120")
    .option("--seed <n>", "random seed (same seed, same result)", "1")
    .addOption(
      new Option("--load <profile>", "traffic: " + LOAD_PROFILES.join(", ")).default("saturate"),
    )
    .option("--compare", "also run: no shaper, a static shaper at the base rate, an oracle")
    .option("--out <dir>", "write per-run stats CSV (upstream format), series CSV and plot.svg")
    .option("--svg <file>", "write only the SVG plot to this file (e.g. docs/demo.svg)")
    .option("--json", "print the summary as JSON instead of a table")
    .option("--reflectors <n>", "number of synthetic reflectors", "10")
    .option("--loss <p>", "highest per-reflector probe loss probability (0-1)", "0.01")
    .option("--buffer-ms <ms>", "ISP buffer, milliseconds at nominal capacity", "250")
    .option(
      "--buffer-scales",
      "the ISP buffer is --buffer-ms at the current capacity (a tbf bottleneck), not at nominal",
    )
    .option(
      "--down-shaper-on-lan",
      "the download shaper is on the LAN egress: the daemon's probe replies skip its queue",
    )
    .option("--flows <n>", "TCP flows per direction of a bulk load", "4")
    .option("--bulk-rtt-ms <ms>", "round trip of the bulk TCP flows without queueing", "30")
    .addOption(
      new Option(
        "--tcp <cc>",
        "congestion control of the bulk flows: " + CONGESTION_CONTROLS.join(", "),
      )
        .default("cubic"),
    );
  addSettingOptions(cmd);
  cmd.action(async (_opts: unknown, command: Command) => {
    const code = await simulateAction(command, options);
    options.setExitCode?.(code);
  });
}

function positive(name: string, text: string, integer: boolean): number {
  const v = Number(text);
  if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
    throw new UsageError(
      `--${name}: expected a positive ${integer ? "integer" : "number"}, got "${text}"`,
    );
  }
  return v;
}

class UsageError extends Error {}

/** The link and load options given to the engine. */
type EngineNumbers = Required<Omit<NonNullable<SimulateOptions["engine"]>, "onStep">>;

/** Runs the command; returns the exit code. */
export async function simulateAction(
  cmd: Command,
  options: SimulateCommandOptions = {},
): Promise<number> {
  const io = options.io ?? processIo;
  const flags = cmd.opts<SimulateFlags>();
  let durationS: number, seed: number;
  let engine: EngineNumbers;
  try {
    durationS = positive("duration", flags.duration, false);
    const s = Number(flags.seed);
    if (!Number.isInteger(s) || s < 0) {
      throw new UsageError(`--seed: expected an integer >= 0, got "${flags.seed}"`);
    }
    seed = s;
    const maxLoss = Number(flags.loss);
    if (flags.loss.trim() === "" || !(maxLoss >= 0 && maxLoss <= 1)) {
      throw new UsageError(`--loss: expected a probability from 0 to 1, got "${flags.loss}"`);
    }
    if (!(CONGESTION_CONTROLS as readonly string[]).includes(flags.tcp)) {
      throw new UsageError(
        `--tcp: unknown congestion control "${flags.tcp}"; use ${CONGESTION_CONTROLS.join(", ")}`,
      );
    }
    engine = {
      reflectorCount: positive("reflectors", flags.reflectors, true),
      bufferMs: positive("buffer-ms", flags.bufferMs, false),
      maxLoss,
      flows: positive("flows", flags.flows, true),
      bulkRttMs: positive("bulk-rtt-ms", flags.bulkRttMs, false),
      cc: flags.tcp as CongestionControl,
      bufferScales: flags.bufferScales === true,
      downShaperOnLan: flags.downShaperOnLan === true,
    };
    if (!isLoadProfile(flags.load)) {
      throw new UsageError(
        `--load: unknown profile "${flags.load}"; use ${LOAD_PROFILES.join(", ")}`,
      );
    }
  } catch (e) {
    io.err(`sqm-autorate simulate: ${(e as Error).message}\n`);
    return ExitCode.USAGE;
  }
  let settings: Settings;
  let pluginSections: PluginSections;
  try {
    settings = (options.resolveSettings ?? defaultResolve)(cmd);
    pluginSections = pluginSectionsOf(cmd);
  } catch (e) {
    io.err(`sqm-autorate simulate: ${(e as Error).message}\n`);
    return ExitCode.CONFIG;
  }
  let trace: CapacityTrace;
  try {
    trace = await loadTrace(flags.trace, { durationS, seed });
  } catch (e) {
    io.err(`sqm-autorate simulate: ${(e as Error).message}\n`);
    return e instanceof TraceParseError ? ExitCode.DATA : ExitCode.USAGE;
  }
  settings = withTraceBaseRates(settings, trace);
  // Quiet by default (one INFO line per rate change would flood the terminal): warnings and
  // errors only, unless --log-level asks for more. Record times are wall-clock, not virtual.
  const level = cmd.getOptionValueSource("logLevel") === "cli" ? settings.log_level : "WARN";
  const format = formatterOf(settings.log_format);
  configureLogging(level, { sink: (record) => io.err(format(record)) });
  try {
    return await runAndReport(
      settings,
      trace,
      flags,
      { durationS, seed, engine, pluginSections },
      options,
    );
  } finally {
    resetLogging();
  }
}

async function runAndReport(
  settings: Settings,
  trace: CapacityTrace,
  flags: SimulateFlags,
  numbers: {
    durationS: number;
    seed: number;
    engine: EngineNumbers;
    pluginSections: PluginSections;
  },
  options: SimulateCommandOptions,
): Promise<number> {
  const io = options.io ?? processIo;
  const { durationS, seed, engine, pluginSections } = numbers;
  const tty = options.stderrIsTerminal ?? Deno.stderr.isTerminal();
  const progress = tty ? progressBar(io) : undefined;
  let stats: FileStatsSink | undefined;
  if (flags.out !== undefined) {
    try {
      await Deno.mkdir(flags.out, { recursive: true });
    } catch (e) {
      io.err(`sqm-autorate simulate: cannot create ${flags.out}: ${(e as Error).message}
`);
      return ExitCode.FAILURE;
    }
    stats = new FileStatsSink({
      stats_file: join(flags.out, "stats.csv"),
      speedhist_file: join(flags.out, "speedhist.csv"),
      stats_max_kbytes: 1_000_000,
    }, { flushEveryRows: 1000 });
  }
  let results: RunResult[];
  try {
    results = await simulate({
      settings,
      trace,
      load: flags.load as LoadProfile,
      durationS,
      seed,
      compare: flags.compare === true,
      pipeline: (hooks) =>
        daemonPipeline(hooks, { stats, pluginSections, luaSeed: luaSeedOf(seed) }),
      engine,
      onProgress: progress,
    });
  } catch (e) {
    progress?.(0, 0, -1);
    io.err(`sqm-autorate simulate: ${(e as Error).message}\n`);
    // The same codes as the daemon: a broken script 65, a controller name that builds nothing 78.
    const controllerFailed = e instanceof LuaRatecontrollerError ||
      e instanceof RatecontrollerConfigError || e instanceof ScriptNotFoundError;
    return controllerFailed ? controllerFailureExitCode(e) : ExitCode.FAILURE;
  }
  progress?.(0, 0, -1);
  if (flags.out !== undefined) {
    try {
      await stats?.flush();
      const written = await writeRunFiles(flags.out, results, { svg: renderSvg(results) });
      written.unshift(join(flags.out, "stats.csv"), join(flags.out, "speedhist.csv"));
      if (!flags.json) io.err(`wrote ${written.join(", ")}\n`);
    } catch (e) {
      io.err(`sqm-autorate simulate: cannot write to ${flags.out}: ${(e as Error).message}\n`);
      return ExitCode.FAILURE;
    }
  }
  if (flags.svg !== undefined) {
    try {
      await Deno.writeTextFile(flags.svg, renderSvg(results));
      if (!flags.json) io.err(`wrote ${flags.svg}\n`);
    } catch (e) {
      io.err(`sqm-autorate simulate: cannot write ${flags.svg}: ${(e as Error).message}\n`);
      return ExitCode.FAILURE;
    }
  }
  if (flags.json) {
    io.out(JSON.stringify(results.map(summaryOf), null, 2) + "\n");
  } else {
    io.out(formatSummaryTable(results));
  }
  return ExitCode.OK;
}

/** A one-line progress bar redrawn on stderr; fraction < 0 clears it. */
function progressBar(io: CliIo): (run: number, runs: number, fraction: number) => void {
  let last = "";
  return (run, runs, fraction) => {
    if (fraction < 0) {
      if (last !== "") io.err("\r" + " ".repeat(last.length) + "\r");
      last = "";
      return;
    }
    const width = 30;
    const filled = Math.round(fraction * width);
    const line = `simulating run ${run + 1}/${runs} [${"#".repeat(filled)}${
      ".".repeat(width - filled)
    }] ${Math.round(fraction * 100)}%`;
    if (line !== last) io.err("\r" + line);
    last = line;
  };
}
