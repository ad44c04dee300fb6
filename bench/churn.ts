/**
 * What the daemon's own process keeps per helper process it replaces (docs/footprint.md, "Helpers
 * over months"): over months it starts and ends thousands of children (the `tc -batch` coprocess
 * every `TC_CHANGES_PER_PROCESS` changes, the pinger every hour, every reselection and after idle
 * stretches, the `ip -batch` counter coprocess after failures). Each kind drives the real adapter
 * through many replacements of a real helper:
 *
 * - `tc`: `TcBatch` with one change per coprocess, TBF rate changes in a throw-away network
 *   namespace (each change starts a tc and retires the previous one); needs root.
 * - `tc_kill`: the same coprocess killed (SIGKILL) after every change, so the next change finds it
 *   dead (the failure path: reaped, that change spawned as its own tc, a fresh coprocess next).
 * - `fping_restart`: `ProcessPinger` (fping, loopback targets) given a new reflector set each time,
 *   which restarts the child through `ChildSupervisor.restart()` (a reselection).
 * - `fping_aged`: the same pinger with a tiny `maxAgeS`, replaced by the supervisor's age timer (the
 *   hourly renewal).
 * - `fping_pause`: the pinger stopped and started again (idle mode's pause and resume).
 * - `ip`: `IpBatchSource` reading `lo`, its coprocess killed (SIGKILL) after every reading, so the
 *   next reading notices and restarts it.
 *
 * Kinds whose tool is missing (no root for the namespace, no fping) are skipped.
 *
 * After a warm-up, it reads the JS heap after forced GCs (needs `--v8-flags=--expose-gc`; else NaN),
 * the resident set, the open fds (/proc/self/fd) and the zombie children (/proc/N/stat in state Z
 * with our pid as parent) before and after the measured replacements. Run with -A (Deno reads /proc
 * only then):
 *
 *   deno run -A --v8-flags=--expose-gc bench/churn.ts [--replacements N] [--kind tc,ip]
 *
 * `deno task bench churn` runs it with the daemon's V8 flags (src/release/v8_flags.ts) and
 * `--expose-gc`: with V8's default young generation the resident set alone grows by tens of MB
 * over the first thousands of starts (V8 keeps the pages the streams' garbage needed).
 *
 * Ends with `metric churn_<kind>_heap_kb_per_1000`, `churn_<kind>_rss_kb_per_1000` and
 * `churn_<kind>_fds_per_1000` (each over the second half of the measured replacements: the resident
 * set settles over the first thousand or so starts) and `churn_<kind>_zombies` (left at the end);
 * it prints each kind's readings at every quarter of its run, and exits with an error when a kind
 * leaks: more than `HEAP_LIMIT_KB_PER_1000` of heap, or more than `FD_SLACK` fds or zombies (a
 * child being replaced at the moment of the reading).
 */
import { TcBatch } from "../src/apply/tc_batch.ts";
import { IpBatchSource } from "../src/counters/ip_link.ts";
import { ProcessPinger } from "../src/measure/pinger.ts";
import { choosePinger } from "../src/measure/backends.ts";
import { systemClock } from "../src/util/clock.ts";
import { denoSpawner } from "../src/util/coprocess.ts";
import { addTbfVethPair, netnsSkipReason, withNetns } from "../src/util/netns_testing.ts";
import { argValue, exitOnHelp } from "./_args.ts";

exitOnHelp(import.meta.url);

/** The daemon process's state that could grow per replacement. */
interface Snapshot {
  /** JS heap used after a full GC, bytes (NaN without --expose-gc). */
  heap: number;
  /** Resident set, bytes. */
  rss: number;
  /** Open file descriptors. */
  fds: number;
  /** Exited children not reaped. */
  zombies: number;
  /** Threads of this process. */
  threads: number;
}

/** What one kind's run reports. */
interface KindResult {
  kind: string;
  replacements: number;
  before: Snapshot;
  /** After `middleAt` of the replacements. */
  middle: Snapshot;
  middleAt: number;
  after: Snapshot;
}

/** Heap growth per 1000 replacements counted as a leak, kB (50 bytes a replacement). */
const HEAP_LIMIT_KB_PER_1000 = 50;
/** Fds or zombies more at the end than at the start that count as a leak. */
const FD_SLACK = 2;

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) console.log("no --expose-gc: heap figures are NaN");

const tick = () => new Promise((r) => setTimeout(r, 1));
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Zombie children of this process. */
function zombies(): number {
  let n = 0;
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    let text: string;
    try {
      text = Deno.readTextFileSync(`/proc/${e.name}/stat`);
    } catch {
      continue; // exited meanwhile
    }
    // Fields after the command: state, ppid (proc(5)).
    const [state, ppid] = text.slice(text.lastIndexOf(")") + 2).split(" ");
    if (state === "Z" && Number(ppid) === Deno.pid) n++;
  }
  return n;
}

/** The snapshot, after pending exits settled and two full GCs. */
async function snapshot(): Promise<Snapshot> {
  await wait(200);
  gc?.();
  gc?.();
  return {
    heap: gc === undefined ? NaN : Deno.memoryUsage().heapUsed,
    rss: Deno.memoryUsage().rss,
    fds: [...Deno.readDirSync("/proc/self/fd")].length,
    zombies: zombies(),
    threads: Number(/^Threads:\s+(\d+)/m.exec(Deno.readTextFileSync("/proc/self/status"))?.[1]),
  };
}

/**
 * Runs `warmup` replacements, snapshots, `n` more (snapshots at each quarter), snapshots; `replace`
 * does one.
 */
async function measure(
  kind: string,
  n: number,
  replace: (i: number) => Promise<void>,
): Promise<KindResult> {
  const warmup = Math.max(200, Math.round(n / 10));
  for (let i = 0; i < warmup; i++) await replace(i);
  const before = await snapshot();
  const kb = (b: number) => (b / 1024).toFixed(0);
  const quarter = Math.round(n / 4);
  let middle = before;
  for (let done = 1; done <= n; done++) {
    await replace(warmup + done - 1);
    if (done % quarter !== 0 || done === n) continue;
    const s = await snapshot();
    if (done === 2 * quarter) middle = s;
    console.log(
      `${kind}: after ${done}: heap ${kb(s.heap)} kB, rss ${
        kb(s.rss)
      } kB, fds ${s.fds}, threads ${s.threads}`,
    );
  }
  const after = await snapshot();
  return { kind, replacements: n, before, middle, after, middleAt: 2 * quarter };
}

/** Waits until `done()` (polling each ms); throws after `ms`. */
async function until(done: () => boolean, what: string, ms = 5000): Promise<void> {
  const t0 = performance.now();
  while (!done()) {
    if (performance.now() - t0 > ms) throw new Error(`churn: timed out waiting for ${what}`);
    await tick();
  }
}

/**
 * `tc`: one change per coprocess, each retired after its change. `tc_kill`: the coprocess lives
 * on, but is killed (SIGKILL) after every change, so the next change finds it dead (the failure
 * path: killed, reaped, that change spawned as its own tc, a fresh coprocess for the next).
 */
async function tcKind(n: number, kind: "tc" | "tc_kill"): Promise<KindResult | undefined> {
  const skip = await netnsSkipReason();
  if (skip !== undefined) {
    console.log(`${kind}: skipped (${skip})`);
    return undefined;
  }
  return await withNetns("sqma-churn14", async (ns) => {
    await addTbfVethPair(ns, "vdl", "vul");
    let pid = 0;
    const batch = new TcBatch({
      command: ["tc", "-n", ns],
      changesPerProcess: kind === "tc" ? 1 : Infinity,
      spawn: (argv) => {
        const p = denoSpawner(argv);
        pid = p.pid;
        return p;
      },
    });
    try {
      const change = async (i: number) => {
        const rate = `${10_000 + (i % 1000) * 10}kbit`;
        const res = await batch.run([
          ...["qdisc", "change", "dev", "vdl", "root"],
          ...["tbf", "rate", rate, "burst", "10kb", "latency", "20ms"],
        ]);
        if (res.code !== 0) throw new Error(`tc change failed: ${res.stderr}`);
      };
      const r = await measure(kind, n, async (i) => {
        const starts = batch.starts;
        await change(i);
        if (kind === "tc") return;
        // A change made while the killed one was not yet seen dead was spawned on its own.
        for (let k = 0; batch.starts === starts && k < 3; k++) await change(i);
        Deno.kill(pid, "SIGKILL");
      });
      console.log(`${kind}: ${batch.starts} coprocesses, ${batch.fallbacks} spawned changes`);
      return r;
    } finally {
      await batch.close();
    }
  });
}

function pinger(maxAgeS?: number): ProcessPinger {
  return new ProcessPinger({
    tool: "fping",
    mode: "echo",
    tickS: 0.1,
    clock: systemClock,
    fping: { icmpTimestamp: false, fwmark: false },
    supervisor: { maxAgeS },
  });
}

async function fpingRestartKind(n: number): Promise<KindResult> {
  const p = pinger();
  await p.start(["127.0.0.1"]);
  try {
    await until(() => p.starts === 1, "the first fping");
    const r = await measure("fping_restart", n, async (i) => {
      const starts = p.starts;
      await p.setReflectors([i % 2 === 0 ? "127.0.0.2" : "127.0.0.1"]);
      await until(() => p.starts === starts + 1, "a new fping");
    });
    console.log(`fping_restart: ${p.starts} processes`);
    return r;
  } finally {
    await p.stop();
  }
}

async function fpingAgedKind(n: number): Promise<KindResult> {
  const p = pinger(0.01);
  await p.start(["127.0.0.1"]);
  try {
    const r = await measure("fping_aged", n, async (i) => {
      await until(() => p.starts >= i + 2, "an aged fping's successor");
    });
    console.log(`fping_aged: ${p.starts} processes`);
    return r;
  } finally {
    await p.stop();
  }
}

/** The pinger stopped and started again (idle mode's pause and resume). */
async function fpingPauseKind(n: number): Promise<KindResult> {
  const p = pinger();
  try {
    return await measure("fping_pause", n, async (i) => {
      await p.start(["127.0.0.1"]);
      await until(() => p.starts === i + 1, "a new fping");
      await p.stop();
    });
  } finally {
    await p.stop();
  }
}

async function ipKind(n: number): Promise<KindResult> {
  const src = new IpBatchSource({ settleMs: 0 });
  try {
    const r = await measure("ip", n, async () => {
      const got = await src.stats(["lo"]);
      if (got?.get("lo") === undefined) throw new Error("ip: no reading of lo");
      const pid = src.pid;
      if (pid !== undefined) Deno.kill(pid, "SIGKILL");
    });
    console.log(`ip: ${src.restarts} restarts`);
    return r;
  } finally {
    await src.close();
  }
}

/** Why fping cannot run here (the daemon's own pinger check), or undefined when it can. */
async function fpingSkipReason(): Promise<string | undefined> {
  try {
    await choosePinger("fping");
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** `kind` unless fping cannot run here. */
function withFping(
  kind: string,
  run: (n: number) => Promise<KindResult>,
): (n: number) => Promise<KindResult | undefined> {
  return async (n) => {
    const skip = await fpingSkipReason();
    if (skip === undefined) return await run(n);
    console.log(`${kind}: skipped (${skip})`);
    return undefined;
  };
}

const KINDS: Record<string, (n: number) => Promise<KindResult | undefined>> = {
  tc: (n) => tcKind(n, "tc"),
  tc_kill: (n) => tcKind(n, "tc_kill"),
  fping_restart: withFping("fping_restart", fpingRestartKind),
  fping_aged: withFping("fping_aged", fpingAgedKind),
  fping_pause: withFping("fping_pause", fpingPauseKind),
  ip: ipKind,
};

const n = Number(argValue("--replacements") ?? 2000);
if (!Number.isInteger(n) || n < 100) {
  throw new Error("churn: --replacements wants a whole number of at least 100");
}
const kinds = argValue("--kind")?.split(",") ?? Object.keys(KINDS);
const results: KindResult[] = [];
for (const kind of kinds) {
  const run = KINDS[kind];
  if (run === undefined) throw new Error(`churn: unknown kind ${kind}`);
  const r = await run(n);
  if (r === undefined) continue;
  results.push(r);
  const kb = (b: number) => (b / 1024).toFixed(0);
  console.log(
    `${kind}: ${n} replacements; heap ${kb(r.before.heap)} -> ${kb(r.after.heap)} kB, rss ${
      kb(r.before.rss)
    } -> ${
      kb(r.after.rss)
    } kB, fds ${r.before.fds} -> ${r.after.fds}, zombies ${r.before.zombies} -> ${r.after.zombies}`,
  );
}
let leaks = 0;
const per1000 = (d: number, replacements: number) => d / replacements * 1000;
for (const r of results) {
  const p = `metric churn_${r.kind}`;
  // Slopes over the second half: the first settles what settles once (the resident set over the
  // first thousand or so starts, a lazily opened fd, V8's feedback).
  const n = r.replacements - r.middleAt;
  const heapKb = per1000((r.after.heap - r.middle.heap) / 1024, n);
  const rssKb = per1000((r.after.rss - r.middle.rss) / 1024, n);
  const fds = r.after.fds - r.middle.fds;
  console.log(`${p}_heap_kb_per_1000 ${heapKb.toFixed(1)} kB`);
  console.log(`${p}_rss_kb_per_1000 ${rssKb.toFixed(0)} kB`);
  console.log(`${p}_fds_per_1000 ${per1000(fds, n).toFixed(1)} fds`);
  console.log(`${p}_zombies ${r.after.zombies} processes`);
  if (
    heapKb > HEAP_LIMIT_KB_PER_1000 || fds > FD_SLACK || r.after.zombies > FD_SLACK
  ) {
    console.log(`!! churn: ${r.kind} leaks`);
    leaks++;
  }
}
if (leaks > 0) Deno.exit(1);
