/**
 * `sqm-autorate reflectors probe [IP...]`: pings reflectors with the daemon's own pinger code and
 * prints replies, loss and delays per reflector. Try it locally with
 * `deno run -P=dev src/cli/reflectors_command.ts reflectors probe --pinger fping 127.0.0.1`.
 */
import { choosePinger, type PingerChoice } from "../measure/backends.ts";
import { ProcessPinger } from "../measure/pinger.ts";
import type { PingerTool, PingReply, ProbeMode } from "../measure/types.ts";
import { embeddedPool, isIpv4, loadPool } from "../reflectors/pool.ts";
import { systemClock } from "../util/clock.ts";
import { ExitCode } from "../util/exit_codes.ts";
import { type CliIo, processIo } from "./io.ts";
import type { CommandSpec, OptionSpec, ParsedArgs } from "./args.ts";
import { runCommand } from "./dispatch.ts";
import { median } from "../util/stats.ts";
import { SETTINGS_TABLE } from "../config/settings_table.ts";

/** Options of `reflectorsCommand`. */
export interface ReflectorsCommandOptions {
  /** Output channels (default: the process's stdout / stderr). */
  io?: CliIo;
}

/** Per-reflector result of a probe run. */
export interface ProbeRow {
  /** Reflector address. */
  reflector: string;
  /** Probes counted as sent. */
  sent: number;
  /** Replies received (at most `sent`). */
  replies: number;
  /** Loss, percent. */
  lossPercent: number;
  /** RTT statistics, ms (null without replies). */
  rttMinMs: number | null;
  /** Median RTT, ms. */
  rttMedianMs: number | null;
  /** Maximum RTT, ms. */
  rttMaxMs: number | null;
  /** Median upload OWD, ms (timestamp mode only). */
  upMedianMs: number | null;
  /** Median download OWD, ms (timestamp mode only). */
  downMedianMs: number | null;
}

/** The whole probe result. */
export interface ProbeReport {
  /** Tool used. */
  pinger: PingerTool;
  /** Executable used. */
  binary: string;
  /** Echo (RTT/2) or ICMP timestamps. */
  mode: ProbeMode;
  /** One row per reflector, in the order given. */
  rows: ProbeRow[];
}

/** Summarises replies into rows: the first `count` replies per reflector count. */
export function summarise(
  reflectors: readonly string[],
  replies: readonly PingReply[],
  count: number,
  mode: ProbeMode,
): ProbeRow[] {
  return reflectors.map((reflector) => {
    const mine = replies.filter((r) => r.reflector === reflector).slice(0, count);
    const rtts = mine.map((r) => r.rttMs);
    const has = mine.length > 0;
    const ts = has && mode === "timestamp";
    return {
      reflector,
      sent: count,
      replies: mine.length,
      lossPercent: Math.round((1 - mine.length / count) * 1000) / 10,
      rttMinMs: has ? Math.min(...rtts) : null,
      rttMedianMs: has ? median(rtts) : null,
      rttMaxMs: has ? Math.max(...rtts) : null,
      upMedianMs: ts ? median(mine.map((r) => r.upMs)) : null,
      downMedianMs: ts ? median(mine.map((r) => r.downMs)) : null,
    };
  });
}

function fmt(x: number | null): string {
  if (x === null) return "-";
  return x < 10 ? x.toFixed(3) : x < 100 ? x.toFixed(2) : x.toFixed(1);
}

/** Renders a report as an aligned text table. */
export function formatProbeTable(report: ProbeReport): string {
  const ts = report.mode === "timestamp";
  const head = ["reflector", "replies", "loss %", "rtt min", "rtt median", "rtt max"];
  if (ts) head.push("up median", "down median");
  const body = report.rows.map((r) => {
    const cells = [
      r.reflector,
      `${r.replies}/${r.sent}`,
      r.lossPercent.toFixed(r.lossPercent % 1 ? 1 : 0),
      fmt(r.rttMinMs),
      fmt(r.rttMedianMs),
      fmt(r.rttMaxMs),
    ];
    if (ts) cells.push(fmt(r.upMedianMs), fmt(r.downMedianMs));
    return cells;
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join("  ")
      .trimEnd();
  const mode = ts ? "ICMP timestamps" : "echo, up = down = RTT/2";
  return [
    `pinger: ${report.pinger} (${report.binary}, ${mode}); delays in ms`,
    line(head),
    ...body.map(line),
  ].join("\n") + "\n";
}

/** Options of `probeReflectors`. */
export interface ProbeOptions {
  /** Probes per reflector. */
  count: number;
  /** Pinger setting (`auto` or a tool). */
  pinger: "auto" | PingerTool;
  /** Executable override. */
  binary?: string;
  /** A pinger already chosen (skips detection; `pinger` and `binary` are then unused). */
  choice?: PingerChoice;
  /** Seconds between probes to one reflector. */
  intervalS: number;
  /** How long to wait for the last replies, s. */
  waitS: number;
  /** Requested mode. */
  mode: ProbeMode;
  /** Prefix for every command (e.g. `ip netns exec NS`). */
  commandPrefix?: readonly string[];
}

/** Pings `reflectors` with the daemon's pinger and returns the summary. */
export async function probeReflectors(
  reflectors: readonly string[],
  options: ProbeOptions,
): Promise<ProbeReport> {
  const choice = options.choice ?? await choosePinger(options.pinger, {
    binary: options.binary,
    commandPrefix: options.commandPrefix,
  });
  const replies: PingReply[] = [];
  const counts = new Map<string, number>();
  let allDone!: () => void;
  const done = new Promise<void>((r) => allDone = r);
  const pinger = new ProcessPinger({
    tool: choice.tool,
    binary: choice.binary,
    fping: choice.fping,
    mode: options.mode,
    tickS: options.intervalS,
    clock: systemClock,
    commandPrefix: options.commandPrefix,
    onReply: (r) => {
      replies.push(r);
      counts.set(r.reflector, (counts.get(r.reflector) ?? 0) + 1);
      if (reflectors.every((ip) => (counts.get(ip) ?? 0) >= options.count)) allDone();
    },
  });
  // Probes go out for count × interval (plus one interval for ping's staggered start).
  const budgetMs = ((options.count + 1) * options.intervalS + options.waitS) * 1000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((r) => timer = setTimeout(r, budgetMs));
  await pinger.start(reflectors);
  try {
    await Promise.race([done, timeout]);
  } finally {
    clearTimeout(timer);
    await pinger.stop();
  }
  return {
    pinger: choice.tool,
    binary: choice.binary,
    mode: pinger.mode,
    rows: summarise(reflectors, replies, options.count, pinger.mode),
  };
}

/** `reflectors probe`'s options. */
const PROBE_OPTIONS: readonly OptionSpec[] = [
  { long: "count", short: "c", value: "n", default: "5", help: "probes per reflector" },
  {
    // The daemon's `pinger` setting's choices and default (src/config/settings_table.ts).
    long: "pinger",
    value: "tool",
    default: String(SETTINGS_TABLE.pinger.default),
    choices: SETTINGS_TABLE.pinger.choices,
    help: "pinger tool",
  },
  { long: "pinger-binary", value: "path", help: "pinger executable (default: from PATH)" },
  {
    long: "interval",
    value: "s",
    default: "0.2",
    help: "seconds between probes to one reflector",
  },
  { long: "wait", value: "s", default: "1", help: "seconds to wait for late replies" },
  {
    long: "sample",
    value: "n",
    default: "5",
    help: "pool reflectors to probe when no IP is given",
  },
  {
    long: "list",
    value: "file",
    help: "reflector CSV to sample from (default: the embedded list)",
  },
  { long: "echo", help: "use ICMP echo even when the pinger supports timestamps" },
  { long: "json", help: "print JSON instead of a table" },
  {
    long: "remote",
    value: "host",
    help:
      "remote mode's router ([user@]host): the probe still runs here, where the daemon pings from",
  },
];

/** A bad option value: exit 64 like any other command-line mistake. */
class ProbeUsageError extends Error {}

function positive(name: string, text: string, integer: boolean): number {
  const v = Number(text);
  if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
    throw new ProbeUsageError(
      `--${name} must be a positive ${integer ? "integer" : "number"}, got "${text}"`,
    );
  }
  return v;
}

/** Picks `k` distinct random entries. */
function sample(pool: readonly string[], k: number, random: () => number = Math.random): string[] {
  const copy = [...pool];
  const out: string[] = [];
  while (out.length < k && copy.length > 0) {
    out.push(copy.splice(Math.floor(random() * copy.length), 1)[0]);
  }
  return out;
}

/** `reflectors` with its subcommand `probe`. */
export function reflectorsCommand(options: ReflectorsCommandOptions = {}): CommandSpec {
  const io = options.io ?? processIo;
  return {
    name: "reflectors",
    description: "reflector tools",
    subcommands: [{
      name: "probe",
      description: "ping reflectors (the given IPv4 addresses, or a random sample of the pool) " +
        "and print replies, loss and delays per reflector",
      arguments: [{ name: "ip", variadic: true, help: "reflector IPv4 addresses" }],
      options: PROBE_OPTIONS,
      run: (args) => probeAction(args, io),
    }],
  };
}

/** Runs `reflectors probe`; returns the exit code. */
async function probeAction(args: ParsedArgs, io: CliIo): Promise<number> {
  const ips = args.positionals;
  const text = (long: string) => args.string(long)!;
  const pinger = text("pinger") as "auto" | PingerTool;
  try {
    // In remote mode the daemon's pings leave from this machine too (docs/remote.md), so a
    // local probe is the right test of the path; say so rather than reach for the router.
    const remote = args.string("remote") ?? Deno.env.get("SQMA_REMOTE");
    if (remote) {
      io.err(
        `reflectors probe: remote mode (${remote}): probing from this machine, as the ` +
          `daemon does; tc and counters run on the router, the pings do not\n`,
      );
    }
    const count = positive("count", text("count"), true);
    const intervalS = positive("interval", text("interval"), false);
    const waitS = positive("wait", text("wait"), false);
    for (const ip of ips) {
      if (!isIpv4(ip)) {
        io.err(`reflectors probe: "${ip}" is not an IPv4 address\n`);
        return ExitCode.USAGE;
      }
    }
    const sampleSize = positive("sample", text("sample"), true);
    let targets = [...new Set(ips)];
    if (targets.length === 0) {
      const list = args.string("list");
      let pool: string[];
      try {
        pool = list ? await loadPool(list, { warn: (m) => io.err(`${m}\n`) }) : embeddedPool();
      } catch (e) {
        io.err(`reflectors probe: ${(e as Error).message}\n`);
        return ExitCode.CONFIG;
      }
      targets = sample(pool, sampleSize);
    }
    let choice: PingerChoice;
    try {
      choice = await choosePinger(pinger, { binary: args.string("pinger-binary") });
    } catch (e) {
      io.err(`reflectors probe: ${(e as Error).message}\n`);
      return ExitCode.UNAVAILABLE;
    }
    const report = await probeReflectors(targets, {
      count,
      pinger,
      choice,
      intervalS,
      waitS,
      mode: args.flag("echo") ? "echo" : "timestamp",
    });
    io.out(args.flag("json") ? JSON.stringify(report, null, 2) + "\n" : formatProbeTable(report));
    if (report.rows.every((r) => r.replies === 0)) {
      io.err("reflectors probe: no reflector answered\n");
      return ExitCode.UNAVAILABLE;
    }
    return ExitCode.OK;
  } catch (e) {
    io.err(`reflectors probe: ${(e as Error).message}\n`);
    return e instanceof ProbeUsageError ? ExitCode.USAGE : ExitCode.FAILURE;
  }
}

if (import.meta.main) {
  // A tiny local entry for trying the command without the full CLI.
  const program: CommandSpec = {
    name: "sqm-autorate",
    description: "reflector tools only",
    subcommands: [reflectorsCommand()],
  };
  Deno.exit(await runCommand(program, Deno.args, processIo));
}
