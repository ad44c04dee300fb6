/**
 * How the testbed's tests and benchmarks start the real daemon: one definition of its flags
 * (the router's interfaces, tx counters, fping, files and lock directory in the run's own temp
 * dir) and of the reflector list it reads. Each caller adds what it is about.
 */
import { ADDR, IFACE } from "./testbed.ts";

/** The interfaces the daemon shapes: download leaves on the router's LAN, upload on its WAN. */
export const DAEMON_IFACES = { upload: IFACE.routerWan, download: IFACE.routerLan } as const;

/** Options of {@linkcode testbedDaemonFlags}. */
export interface TestbedDaemonOptions {
  /** The run's temp dir: reflector list, statistics files and interface locks live here. */
  readonly dir: string;
  /** Upload base rate, kbit/s. */
  readonly upKbit: number;
  /** Download base rate, kbit/s. */
  readonly downKbit: number;
  /** Router shaper kind (default tbf). */
  readonly shaper?: "tbf" | "htb";
  /** Write the statistics files into `dir` (default) or suppress them. */
  readonly statistics?: boolean;
  /** Keep the interface locks in `dir` (default; only a daemon predating the setting lacks it). */
  readonly stateDir?: boolean;
}

/** Flags of `main.ts run` for the testbed's router (callers append their own). */
export function testbedDaemonFlags(o: TestbedDaemonOptions): string[] {
  const shaper = o.shaper ?? "tbf";
  return [
    "--upload-interface",
    DAEMON_IFACES.upload,
    "--download-interface",
    DAEMON_IFACES.download,
    "--upload-base-kbits",
    String(o.upKbit),
    "--download-base-kbits",
    String(o.downKbit),
    // Shaped traffic leaves the router on both interfaces: download = LAN tx, upload = WAN tx.
    "--download-counter",
    "tx",
    "--upload-counter",
    "tx",
    "--shaper",
    shaper,
    ...(shaper === "htb" ? ["--htb-classid", "1:1"] : []),
    "--pinger",
    "fping",
    "--reflector-list-file",
    `${o.dir}/reflectors.csv`,
    ...(o.statistics === false
      ? ["--suppress-statistics"]
      : ["--stats-file", `${o.dir}/stats.csv`, "--speed-hist-file", `${o.dir}/speedhist.csv`]),
    // Interface locks of this run only: parallel runs reuse the interface names in their netns.
    ...(o.stateDir === false ? [] : ["--state-dir", o.dir]),
  ];
}

/** Writes the testbed's reflectors as `dir/reflectors.csv`, the list the daemon flags name. */
export async function writeTestbedReflectors(dir: string): Promise<void> {
  await Deno.writeTextFile(
    `${dir}/reflectors.csv`,
    "reflector_ip,ip_version,description\n" +
      ADDR.reflectors.map((a, i) => `${a},4,testbed reflector ${i + 1}\n`).join(""),
  );
}

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** Options of {@linkcode daemonRunArgv}. */
export interface DaemonRunOptions {
  /** Entry script (default this checkout's main.ts); its folder's deno.json is the config. */
  readonly entry?: string;
  /** Config file (default: the entry folder's deno.json). */
  readonly config?: string;
  /** `--v8-flags` to pass, if any. */
  readonly v8Flags?: string;
  /**
   * V8's code cache (default true, deno's default); false runs with `--no-code-cache`, as the
   * compiled binary and `deno task daemon` do (docs/footprint.md, "Code cache").
   */
  readonly codeCache?: boolean;
}

/**
 * `deno run -P=daemon … main.ts run FLAGS…`: the real daemon under exactly the release
 * permission set (the testbed's files lie under /tmp/sqm-autorate/, which it may use).
 */
export function daemonRunArgv(flags: readonly string[], o: DaemonRunOptions = {}): string[] {
  const entry = o.entry ?? `${ROOT}/main.ts`;
  return [
    Deno.execPath(),
    "run",
    "-P=daemon",
    ...(o.codeCache === false ? ["--no-code-cache"] : []),
    ...(o.v8Flags ? [`--v8-flags=${o.v8Flags}`] : []),
    "--config",
    o.config ?? `${entry.replace(/\/[^/]*$/, "")}/deno.json`,
    entry,
    "run",
    ...flags,
  ];
}
