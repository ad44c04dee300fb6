/**
 * Command lines of the pinger tools (docs/algorithm.md §3) and detection of the installed tool and its
 * features. The argument builders are pure.
 */
import { COMMAND_NOT_RUNNABLE, defaultCommandRunner } from "../util/command.ts";
import { stageLogger } from "../log/mod.ts";
import type { PingerTool, ProbeMode } from "./types.ts";

const log = stageLogger("measure");

/** Multi-WAN options shared by all tools (settings pinger_interface/_source/_fwmark). */
export interface BindOptions {
  /** Interface to bind to ("" = none). */
  iface?: string;
  /** Source address ("" = none). */
  source?: string;
  /** Firewall mark (0 = none). */
  fwmark?: number;
}

/** Features of an fping build, from `fping -v`. */
export interface FpingFeatures {
  /** Parsed version, e.g. [5, 1]; undefined if unknown. */
  version?: readonly [number, number];
  /** `--icmp-timestamp` (5.3+). */
  icmpTimestamp: boolean;
  /** `--fwmark` (5.2+). */
  fwmark: boolean;
}

/** Parses `fping -v` output (`fping: Version 5.1`) into features. */
export function fpingFeaturesFromVersion(text: string): FpingFeatures {
  const m = /Version\s+(\d+)\.(\d+)/.exec(text);
  if (!m) return { icmpTimestamp: false, fwmark: false };
  const v: [number, number] = [Number(m[1]), Number(m[2])];
  const atLeast = (a: number, b: number) => v[0] > a || (v[0] === a && v[1] >= b);
  return { version: v, icmpTimestamp: atLeast(5, 3), fwmark: atLeast(5, 2) };
}

/** A bind option the tool cannot honour; reported once as a warning by the caller. */
export type Unsupported = string;

/** Result of building a command line. */
export interface CommandLine {
  /** Arguments after the executable. */
  args: string[];
  /** Options requested but not supported by this tool/version. */
  unsupported: Unsupported[];
}

function ms(x: number): string {
  return String(Math.max(1, Math.round(x)));
}

/**
 * fping loop mode (docs/algorithm.md §3.1): one probe per target every tick (`-p`), probes spread
 * evenly (`-i tick/N`), a 10 s timeout like cake-autorate so delayed replies still count.
 */
export function fpingArgs(
  reflectors: readonly string[],
  options: BindOptions & { tickS: number; mode: ProbeMode; features: FpingFeatures },
): CommandLine {
  const period = options.tickS * 1000;
  const args = [
    "--timestamp",
    "--loop",
    "--period",
    ms(period),
    "--interval",
    ms(period / Math.max(1, reflectors.length)),
    "--timeout",
    "10000",
  ];
  const unsupported: string[] = [];
  if (options.mode === "timestamp") {
    if (options.features.icmpTimestamp) args.push("--icmp-timestamp");
    else unsupported.push("--icmp-timestamp (needs fping >= 5.3)");
  }
  if (options.iface) args.push("--iface", options.iface);
  if (options.source) args.push("--src", options.source);
  if (options.fwmark) {
    if (options.features.fwmark) args.push(`--fwmark=${options.fwmark}`);
    else unsupported.push("pinger_fwmark (needs fping >= 5.2)");
  }
  args.push(...reflectors);
  return { args, unsupported };
}

/** iputils ping for one reflector (docs/algorithm.md §3.2): `-D -n -i tick`. */
export function pingArgs(
  reflector: string,
  options: BindOptions & { tickS: number },
): CommandLine {
  const args = ["-D", "-n", "-i", String(options.tickS)];
  const unsupported: string[] = [];
  // iputils takes one -I: an interface name or a source address.
  if (options.iface) {
    args.push("-I", options.iface);
    if (options.source) unsupported.push("pinger_source together with pinger_interface (ping)");
  } else if (options.source) args.push("-I", options.source);
  if (options.fwmark) args.push("-m", String(options.fwmark));
  args.push(reflector);
  return { args, unsupported };
}

/**
 * tsping (docs/algorithm.md §3.3): all targets in rounds, `--target-spacing tick/N` with no pause after
 * a round, or `--sleep-time tick` for a single target (spacing is ignored then).
 */
export function tspingArgs(
  reflectors: readonly string[],
  options: BindOptions & { tickS: number; mode: ProbeMode },
): CommandLine {
  const tickMs = options.tickS * 1000;
  const n = reflectors.length;
  const args = [
    "--print-timestamps",
    "--machine-readable=,",
    options.mode === "echo" ? "--icmp-echo" : "--icmp-ts",
    `--sleep-time=${n <= 1 ? ms(tickMs) : "0"}`,
    `--target-spacing=${n <= 1 ? "0" : ms(tickMs / n)}`,
  ];
  const unsupported: string[] = [];
  if (options.iface) args.push(`--interface=${options.iface}`);
  if (options.fwmark) args.push(`--fw-mark=${options.fwmark}`);
  if (options.source) unsupported.push("pinger_source (tsping has no source option)");
  args.push(...reflectors);
  return { args, unsupported };
}

/** Runs a command and returns its combined output, or undefined when it cannot be run. */
export type Probe = (cmd: string, args: readonly string[]) => Promise<string | undefined>;

/** Default probe: the shared command runner; a program that cannot be run → undefined. */
export const denoProbe: Probe = async (cmd, args) => {
  const r = await defaultCommandRunner(cmd, args);
  return r.code === COMMAND_NOT_RUNNABLE ? undefined : r.stdout + r.stderr;
};

/** The pinger to use and how to run it. */
export interface PingerChoice {
  /** Tool kind. */
  tool: PingerTool;
  /** Executable (name looked up in PATH, or `pinger_binary`). */
  binary: string;
  /** fping features (only for fping). */
  fping?: FpingFeatures;
}

const VERSION_ARGS: Record<PingerTool, string[]> = {
  tsping: ["--version"],
  fping: ["-v"],
  ping: ["-V"],
};

function toolFromBinary(binary: string): PingerTool | undefined {
  const base = binary.split("/").pop() ?? "";
  if (base.includes("tsping")) return "tsping";
  if (base.includes("fping")) return "fping";
  if (base.includes("ping")) return "ping";
  return undefined;
}

/**
 * Picks the pinger for setting `pinger` (`auto`: tsping, else fping, else ping, whichever runs)
 * and `pinger_binary`, and detects fping's features. Throws when nothing usable is found.
 * `commandPrefix` (e.g. `ip netns exec NS`) is used for probing too.
 */
export async function choosePinger(
  pinger: "auto" | PingerTool,
  options: {
    binary?: string;
    probe?: Probe;
    commandPrefix?: readonly string[];
    /** Log the choice at DEBUG only (a SIGHUP's check: the restart logs it). */
    quiet?: boolean;
  } = {},
): Promise<PingerChoice> {
  const probe = options.probe ?? denoProbe;
  const prefix = options.commandPrefix ?? [];
  const run = (bin: string, args: string[]) =>
    prefix.length > 0 ? probe(prefix[0], [...prefix.slice(1), bin, ...args]) : probe(bin, args);
  let candidates: PingerTool[];
  if (pinger !== "auto") candidates = [pinger];
  else if (options.binary) {
    const t = toolFromBinary(options.binary);
    if (!t) {
      throw new Error(
        `pinger_binary ${options.binary}: cannot tell which tool it is; set pinger too`,
      );
    }
    candidates = [t];
  } else candidates = ["tsping", "fping", "ping"];
  for (const tool of candidates) {
    const binary = options.binary || tool;
    const out = await run(binary, VERSION_ARGS[tool]);
    if (out === undefined) {
      log.debug("Pinger {tool} ({binary}) not available", { tool, binary });
      continue;
    }
    const choice: PingerChoice = { tool, binary };
    if (tool === "fping") choice.fping = fpingFeaturesFromVersion(out);
    (options.quiet ? log.debug : log.info).call(log, "Using pinger {tool} ({binary}{v})", {
      tool,
      binary,
      v: choice.fping?.version ? `, version ${choice.fping.version.join(".")}` : "",
    });
    return choice;
  }
  throw new Error(
    `no usable pinger found (tried ${
      candidates.map((c) => options.binary || c).join(", ")
    }); install tsping, fping or iputils ping, or set pinger_binary`,
  );
}
