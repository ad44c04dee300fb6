/**
 * `sqm-autorate simulate`: runs the real control pipeline against a modelled link in virtual
 * time. Needs no interfaces, no root and no pinger tools.
 */
import type { Settings } from "../config/types.ts";
import { readUciFile, resolveSettings as resolveFromInput, SETTINGS_TABLE } from "../config/mod.ts";
import {
  configPathFrom,
  flagValuesFrom,
  settingOptions,
  type SettingsUse,
} from "./settings_options.ts";
import type { CommandSpec, OptionSpec, ParsedArgs } from "./args.ts";
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
import { parseReflectorFaults, type ReflectorFault } from "../sim/reflector_faults.ts";
import { type PluginSections, pluginSectionsFrom } from "../lua/config.ts";
import { LuaRatecontrollerError, ScriptNotFoundError } from "../lua/errors.ts";
import { controllerFailureExitCode, RatecontrollerConfigError } from "../ratecontroller/mod.ts";
import { CONGESTION_CONTROLS, type CongestionControl } from "../sim/tcp.ts";
import { writeRunFiles } from "../sim/output.ts";
import { FileStatsSink } from "../report/mod.ts";
import { join } from "../util/posix_path.ts";
import { errorText } from "../util/error_text.ts";
import { baseAboveTraceNote } from "./simulate_base_note.ts";
import { type CounterRead, parseCounterRead } from "../sim/counter_read.ts";

/** Options of `simulateCommand`. */
export interface SimulateCommandOptions {
  /**
   * Resolves the settings from the subcommand's setting flags. Default: the flags over the
   * UCI file given with `--config` over the table defaults (no environment and no implicit
   * /etc/config file: a simulation should not depend on the machine it runs on).
   */
  resolveSettings?: (args: ParsedArgs) => Settings;
  /** Output channels (default: the process's stdout / stderr). */
  io?: CliIo;
  /** Whether stderr is a terminal (progress bar). Default: `Deno.stderr.isTerminal()`. */
  stderrIsTerminal?: boolean;
}

/** The parsed `simulate` flags. */
interface SimulateFlags {
  trace: string;
  load: string;
  compare: boolean;
  out?: string;
  svg?: string;
  json: boolean;
}

/** `simulate`'s own options; the settings' options follow them. */
const SIMULATE_OPTIONS: readonly OptionSpec[] = [
  {
    long: "trace",
    value: "name|file",
    default: "step",
    help: `capacity trace: ${BUILTIN_TRACES.join(", ")}, or a CSV file time_s,down_kbit,up_kbit`,
  },
  { long: "duration", value: "seconds", default: "120", help: "simulated seconds" },
  {
    long: "trace-period",
    value: "seconds",
    help: "step and cable-evening repeat their shape this often (default: once over the run)",
  },
  { long: "seed", value: "n", default: "1", help: "random seed (same seed, same result)" },
  {
    long: "load",
    value: "profile",
    default: "saturate",
    help: "traffic: " + LOAD_PROFILES.join(", "),
  },
  { long: "compare", help: "also run: no shaper, a static shaper at the base rate, an oracle" },
  {
    long: "out",
    value: "dir",
    help: "write per-run stats CSV (upstream format), series CSV and plot.svg",
  },
  { long: "svg", value: "file", help: "write only the SVG plot to this file (e.g. docs/demo.svg)" },
  { long: "json", help: "print the summary as JSON instead of a table" },
  { long: "reflectors", value: "n", default: "10", help: "number of synthetic reflectors" },
  {
    long: "loss",
    value: "p",
    default: "0.01",
    help: "highest per-reflector probe loss probability (0-1)",
  },
  {
    long: "reflector-jitter",
    value: "scale",
    default: "1",
    help: "scale of the reflectors' jitter (0.2-1.5 ms mean per direction at 1)",
  },
  {
    long: "reflector-faults",
    value: "list",
    help:
      "faulty reflectors, KIND[:COUNT[:P]],...: late, jitter, dies, outage, route (docs/simulator.md)",
  },
  {
    long: "counter-scale",
    value: "f",
    default: "1",
    help:
      "the download counter reports this share of the shaper's bytes (0-1; the e2e testbed's GSO packets at 150 Mbit/s: 0.962)",
  },
  {
    long: "up-counter-scale",
    value: "f",
    default: "1",
    help: "the upload counter reports this share of the shaper's bytes (0-1)",
  },
  {
    long: "counter-lag-ms",
    value: "ms",
    default: "0",
    help:
      "each counter read lags by a random 0 to MS ms of the shaper's rate (per-decision scatter)",
  },
  {
    long: "counter-scatter",
    value: "spec",
    help:
      "each counter read samples the bytes a random delay after its tick: testbed (the e2e testbed's), or [FIXED+]MEAN[:SHARE:TAILMEAN][@SLOW/RUN/FACTOR][:read] (ms, FIXED plus an exponential; SHARE of reads TAILMEAN more; @: slow spells, SLOW of the legs in runs of RUN legs with FACTOR times the exponential mean, MEAN kept overall; :read: inside the read, the loop's clock sees it, and each rate change takes a round trip alike)",
  },
  {
    long: "buffer-ms",
    value: "ms",
    default: "250",
    help: "ISP buffer, milliseconds at nominal capacity",
  },
  {
    long: "buffer-scales",
    help:
      "the ISP buffer is --buffer-ms at the current capacity (a tbf bottleneck), not at nominal",
  },
  {
    long: "down-shaper-on-lan",
    help: "the download shaper is on the LAN egress: the daemon's probe replies skip its queue",
  },
  {
    long: "shaper-fq",
    help: "tbf/htb with an fq_codel leaf (sqm-scripts' setup): flow isolation as with cake",
  },
  { long: "flows", value: "n", default: "4", help: "TCP flows per direction of a bulk load" },
  {
    long: "bulk-rtt-ms",
    value: "ms",
    default: "30",
    help: "round trip of the bulk TCP flows without queueing",
  },
  {
    long: "tcp",
    value: "cc",
    default: "cubic",
    help: "congestion control of the bulk flows: " + CONGESTION_CONTROLS.join(", "),
  },
  {
    long: "loss-in-step",
    help:
      "the bulk flows learn of a loss at once (default: one round trip after it, as real senders)",
  },
  {
    long: "ack-path",
    help: "the bulk flows' ACKs wait in the opposite direction's queues (the default)",
  },
  {
    long: "no-ack-path",
    help:
      "the bulk flows' ACKs return one base RTT after delivery, whatever the opposite queues hold (the model before 2026-12-05)",
  },
  {
    long: "no-tbf-bucket",
    help:
      "with --shaper tbf, the shaper serves exactly its rate (default: its token bucket, refilled by every rate change)",
  },
];

/** `settings.plugin(name)` for Lua scripts: the sections of the `--config` file, if any. */
function pluginSectionsOf(args: ParsedArgs): PluginSections {
  const configPath = configPathFrom(args);
  return pluginSectionsFrom(
    configPath === undefined ? undefined : readUciFile(configPath, { explicit: true }),
  );
}

/** Lua's own `math.random` seed for a run: derived from `--seed`, never drawn from its streams. */
export function luaSeedOf(seed: number): number {
  return (Math.imul(seed ^ 0x4c7561, 0x9e3779b1) >>> 0) % 2 ** 31;
}

function defaultResolve(args: ParsedArgs): Settings {
  const configPath = configPathFrom(args);
  const uci = configPath === undefined ? undefined : readUciFile(configPath, { explicit: true });
  return resolveFromInput({ flags: flagValuesFrom(args), uci }).settings;
}

/**
 * How `simulate` uses the settings (its `--help`): flags and `--config FILE` only
 * (`defaultResolve`); no interface is needed and the base rates default to the trace's nominal
 * capacity (`withTraceBaseRates`).
 */
const SIMULATE_SETTINGS_USE: SettingsUse = {
  flagsAndConfigOnly: true,
  unrequired: (name) =>
    name === "base_ul_rate" || name === "base_dl_rate"
      ? "the trace's nominal capacity"
      : "(not needed)",
};

/**
 * The `simulate` command, with every setting flag (`--rate-controller`, `--plugin-scripts`,
 * thresholds, …) plus the simulator's own flags.
 */
export function simulateCommand(options: SimulateCommandOptions = {}): CommandSpec {
  return {
    name: "simulate",
    description:
      "run the controller against a simulated link in virtual time (no root, no interfaces); " +
      "prints a summary, optionally writes stats CSV and an SVG plot",
    options: [...SIMULATE_OPTIONS, ...settingOptions(SIMULATE_SETTINGS_USE)],
    run: (args) => simulateAction(args, options),
  };
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

/**
 * `--counter-scale`, `--up-counter-scale`: the share of the shaper's bytes a counter reports, above
 * 0 and at most 1 (also `scripts/sim_seeds.ts`).
 */
export function counterScale(name: string, text: string): number {
  const v = positive(name, text, false);
  if (v > 1) throw new UsageError(`--${name}: expected at most 1, got "${text}"`);
  return v;
}

/** `--counter-lag-ms` and other amounts of at least 0 (also `scripts/sim_seeds.ts`). */
export function nonNegative(name: string, text: string): number {
  const v = Number(text);
  if (!Number.isFinite(v) || v < 0) {
    throw new UsageError(`--${name}: expected a number of at least 0, got "${text}"`);
  }
  return v;
}

/** `--counter-scatter` (also `scripts/sim_seeds.ts`); undefined when not given. */
export function counterReadOf(text: string | undefined): CounterRead | undefined {
  if (text === undefined) return undefined;
  try {
    return parseCounterRead(text);
  } catch (e) {
    throw new UsageError(`--counter-scatter: ${errorText(e)}`);
  }
}

class UsageError extends Error {}

/** The link and load options given to the engine. */
type EngineNumbers =
  & Required<Omit<NonNullable<SimulateOptions["engine"]>, "onStep" | "counterRead">>
  & Pick<NonNullable<SimulateOptions["engine"]>, "counterRead">;

/** Runs the command; returns the exit code. */
export async function simulateAction(
  args: ParsedArgs,
  options: SimulateCommandOptions = {},
): Promise<number> {
  const io = options.io ?? processIo;
  const text = (long: string) => args.string(long)!;
  const flags: SimulateFlags = {
    trace: text("trace"),
    load: text("load"),
    compare: args.flag("compare"),
    out: args.string("out"),
    svg: args.string("svg"),
    json: args.flag("json"),
  };
  let durationS: number, seed: number, periodS: number | undefined;
  let engine: EngineNumbers;
  try {
    durationS = positive("duration", text("duration"), false);
    const period = args.string("trace-period");
    periodS = period === undefined ? undefined : positive("trace-period", period, false);
    const s = Number(text("seed"));
    if (!Number.isInteger(s) || s < 0) {
      throw new UsageError(`--seed: expected an integer >= 0, got "${text("seed")}"`);
    }
    seed = s;
    const maxLoss = Number(text("loss"));
    if (text("loss").trim() === "" || !(maxLoss >= 0 && maxLoss <= 1)) {
      throw new UsageError(`--loss: expected a probability from 0 to 1, got "${text("loss")}"`);
    }
    const tcp = text("tcp");
    if (!(CONGESTION_CONTROLS as readonly string[]).includes(tcp)) {
      throw new UsageError(
        `--tcp: unknown congestion control "${tcp}"; use ${CONGESTION_CONTROLS.join(", ")}`,
      );
    }
    engine = {
      reflectorCount: positive("reflectors", text("reflectors"), true),
      bufferMs: positive("buffer-ms", text("buffer-ms"), false),
      maxLoss,
      reflectorJitter: positive("reflector-jitter", text("reflector-jitter"), false),
      reflectorFaults: faultsOf(args.string("reflector-faults")),
      flows: positive("flows", text("flows"), true),
      bulkRttMs: positive("bulk-rtt-ms", text("bulk-rtt-ms"), false),
      cc: tcp as CongestionControl,
      bufferScales: args.flag("buffer-scales"),
      downShaperOnLan: args.flag("down-shaper-on-lan"),
      shaperFq: args.flag("shaper-fq"),
      lossAfterRtt: !args.flag("loss-in-step"),
      ackPath: !args.flag("no-ack-path"),
      tbfBucket: !args.flag("no-tbf-bucket"),
      downCounterScale: counterScale("counter-scale", text("counter-scale")),
      upCounterScale: counterScale("up-counter-scale", text("up-counter-scale")),
      counterLagMs: nonNegative("counter-lag-ms", text("counter-lag-ms")),
      counterRead: counterReadOf(args.string("counter-scatter")),
    };
    if (args.flag("ack-path") && args.flag("no-ack-path")) {
      throw new UsageError("--ack-path and --no-ack-path: give one of them");
    }
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
    settings = (options.resolveSettings ?? defaultResolve)(args);
    pluginSections = pluginSectionsOf(args);
  } catch (e) {
    io.err(`sqm-autorate simulate: ${(e as Error).message}\n`);
    return ExitCode.CONFIG;
  }
  let trace: CapacityTrace;
  try {
    trace = await loadTrace(flags.trace, { durationS, seed, periodS });
  } catch (e) {
    io.err(`sqm-autorate simulate: ${(e as Error).message}\n`);
    return e instanceof TraceParseError ? ExitCode.DATA : ExitCode.USAGE;
  }
  const note = baseAboveTraceNote(settings, trace);
  if (note !== undefined) io.err(`${note}\n`);
  settings = withTraceBaseRates(settings, trace);
  // Quiet by default (one INFO line per rate change would flood the terminal): warnings and
  // errors only, unless --log-level asks for more. Record times are wall-clock, not virtual.
  const level = args.given(SETTINGS_TABLE.log_level.flag) ? settings.log_level : "WARN";
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
      io.err(`sqm-autorate simulate: cannot create ${flags.out}: ${errorText(e)}
`);
      return ExitCode.CANT_CREATE;
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
      compare: flags.compare,
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
      io.err(`sqm-autorate simulate: cannot write to ${flags.out}: ${errorText(e)}\n`);
      return ExitCode.CANT_CREATE;
    }
  }
  if (flags.svg !== undefined) {
    try {
      await Deno.writeTextFile(flags.svg, renderSvg(results));
      if (!flags.json) io.err(`wrote ${flags.svg}\n`);
    } catch (e) {
      io.err(`sqm-autorate simulate: cannot write ${flags.svg}: ${errorText(e)}\n`);
      return ExitCode.CANT_CREATE;
    }
  }
  if (flags.json) {
    io.out(JSON.stringify(results.map(summaryOf), null, 2) + "\n");
  } else {
    io.out(formatSummaryTable(results));
  }
  return ExitCode.OK;
}

/** `--reflector-faults`: none when not given; a bad list is a usage error. */
function faultsOf(text: string | undefined): ReflectorFault[] {
  if (text === undefined) return [];
  try {
    return parseReflectorFaults(text);
  } catch (e) {
    throw new UsageError(`--reflector-faults: ${(e as Error).message}`);
  }
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
