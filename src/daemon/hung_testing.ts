/**
 * Helpers of the daemon tests against real helpers that hang or lose their peer
 * (hung_helpers_netns_test.ts, remote_faults_netns_test.ts): polling waits, this process's
 * children from `ps`, signals, collected log records, a daemon whose rate moves every tick, a
 * measurement of loopback reflectors and a `tc -batch` whose coprocesses are recorded (also
 * unreachable_netns_test.ts).
 */
import { assertEquals } from "../util/assert.ts";
import type { LogRecord } from "../log/logger.ts";
import { configureLogging, resetLogging } from "../log/mod.ts";
import type { TickEvent } from "../control/ports.ts";
import { TcBatch } from "../apply/tc_batch.ts";
import { denoSpawner } from "../util/coprocess.ts";
import { createMeasurement } from "../measure/mod.ts";
import type { PingerTool } from "../measure/types.ts";
import { stageLogger } from "../log/mod.ts";
import { must, sh } from "../util/netns_testing.ts";
import type { DaemonNetns } from "./netns_fixture.ts";

/** Resolves after `ms`. */
export const pause = (ms: number): Promise<unknown> => new Promise((r) => setTimeout(r, ms));

/** Waits (polling, at most `ms`) until `ok()` holds. */
export async function until(
  ok: () => boolean | Promise<boolean>,
  what: string,
  ms = 5000,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await pause(20);
  }
}

/** One child process: pid, command name and state (`T` stopped, `Z` zombie). */
export interface ChildInfo {
  /** Process id. */
  pid: number;
  /** Command name (`comm`). */
  comm: string;
  /** First letter of `ps`'s state. */
  state: string;
}

/** This process's children, from ps. */
export async function children(): Promise<ChildInfo[]> {
  const out = await must("ps", ["-o", "pid=,stat=,comm=", "--ppid", String(Deno.pid)]);
  return out.trim().split("\n").filter((l) => l.trim() !== "").map((l) => {
    const [pid, stat, comm] = l.trim().split(/\s+/);
    return { pid: Number(pid), comm, state: stat[0] };
  }).filter((c) => c.comm !== "ps");
}

/** True while `pid` exists (running, stopped or a zombie). */
export async function exists(pid: number): Promise<boolean> {
  return (await sh("ps", ["-o", "pid=", "-p", String(pid)])).ok;
}

/** Sends `sig` to `pid`; a process already gone is fine. */
export function signal(pid: number, sig: Deno.Signal): void {
  try {
    Deno.kill(pid, sig);
  } catch {
    // Already reaped.
  }
}

/** Runs `fn` with every INFO+ record of the process collected. */
export async function withLogs<T>(fn: (records: LogRecord[]) => Promise<T>): Promise<T> {
  const records: LogRecord[] = [];
  configureLogging("INFO", { sink: (r) => void records.push(r) });
  try {
    return await fn(records);
  } finally {
    resetLogging();
  }
}

/** Records of `records` whose template matches `re`. */
export const matching = (records: LogRecord[], re: RegExp): LogRecord[] =>
  records.filter((r) => re.test(r.rawMessage));

/** A daemon started by {@linkcode flippingDaemon}. */
export interface FlippingDaemon {
  /** Aborts it; resolves with its exit code. */
  stop(): Promise<number>;
  /** Its exit code. */
  done: Promise<number>;
  /** Its tick events. */
  ticks: TickEvent[];
  /** The download rate the daemon last reported in force. */
  lastRate(): number | undefined;
  /** Makes the download rate constant. */
  hold(kbit: number): void;
}

/**
 * A daemon on `d` whose download rate flips every tick (tc is asked every tick, as under load)
 * until `hold(kbit)` makes it constant.
 */
export function flippingDaemon(
  d: DaemonNetns,
  deps: Parameters<DaemonNetns["start"]>[0],
): FlippingDaemon {
  let flip = 0;
  let held: number | undefined;
  const ticks: TickEvent[] = [];
  const daemon = d.start({
    adjusters: [{ name: "flip", adjust: () => ({ next_dl_rate: held ?? 20000 + (flip ^= 1) }) }],
    observers: [{ onTick: (e) => void ticks.push(e) }],
    ...deps,
  });
  return {
    ...daemon,
    ticks,
    lastRate: () => ticks.at(-1)?.dlRate,
    hold: (kbit: number) => void (held = kbit),
  };
}

/**
 * Once the daemon runs again: a new distinct rate is applied and, a while later, the kernel
 * has it (no stale change from the stopped process landed), the old helper is reaped and no
 * child is stopped or a zombie. `settleMs`: how long the kernel's rate must wait (default 500).
 */
export async function assertRecovered(
  d: DaemonNetns,
  daemon: FlippingDaemon,
  options: { old?: number; settleMs?: number; kbit?: number } = {},
): Promise<void> {
  const kbit = options.kbit ?? 33333;
  const ticksBefore = daemon.ticks.length;
  await until(() => daemon.ticks.length >= ticksBefore + 10, "ten more ticks", 30_000);
  daemon.hold(kbit);
  await until(() => daemon.lastRate() === kbit, `the daemon to apply ${kbit} kbit/s`, 30_000);
  await pause(options.settleMs ?? 500);
  assertEquals((await d.tbf("vdl")).rateKbit, kbit);
  assertEquals(daemon.lastRate(), kbit);
  const old = options.old;
  if (old !== undefined) {
    await until(async () => !(await exists(old)), `the stopped helper ${old} to be reaped`);
  }
  await until(
    async () => (await children()).every((c) => c.state !== "T" && c.state !== "Z"),
    "no stopped or zombie child",
  );
}

/** Reflectors that answer inside any namespace (its `lo`). */
export const LOOPBACK_POOL = Array.from({ length: 12 }, (_, i) => `127.0.0.${i + 1}`);

/**
 * The daemon's measurement run inside `d`'s namespace with `tool`, over the first `poolSize`
 * loopback reflectors (default all 12) and the `silent` ones (routed where nothing answers), the
 * first five loopback ones as the initial peers.
 */
export function loopbackMeasurement(
  d: DaemonNetns,
  o: { tool: PingerTool; poolSize?: number; silent?: readonly string[] },
): ReturnType<typeof createMeasurement> {
  return createMeasurement(d.settings, {
    pool: [...LOOPBACK_POOL.slice(0, o.poolSize ?? LOOPBACK_POOL.length), ...(o.silent ?? [])],
    initialPeers: LOOPBACK_POOL.slice(0, 5),
    commandPrefix: ["ip", "netns", "exec", d.ns],
    pingerChoice: { tool: o.tool, binary: o.tool },
  });
}

/** A `tc -batch` in namespace `ns` that pushes the PID of each coprocess it starts to `pids`. */
export function recordedTcBatch(
  ns: string,
  pids: number[],
  o: { timeoutMs?: number } = {},
): TcBatch {
  return new TcBatch({
    command: ["tc", "-n", ns],
    timeoutMs: o.timeoutMs,
    logger: stageLogger("apply"),
    spawn: (argv) => {
      const child = denoSpawner(argv);
      pids.push(child.pid);
      return child;
    },
  });
}
