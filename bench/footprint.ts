/**
 * Footprint of the real daemon (`run` under `-P=daemon`; by default a fresh bundle of main.ts, the
 * form users get, or `--entry main.ts` from source) in the network-namespace testbed of tests/e2e
 * (TBF bottleneck and router shapers, fping to the reflectors):
 *
 * 1. without Lua: 30 s of saturating TCP both ways, then 30 s idle (from the moment idle mode,
 *    here after 15 s of quiet, can have begun);
 * 2. a fresh daemon with a Lua plugin (`builtin:delay_tuner`): 30 s of the same load.
 *
 * CPU is the daemon's and every child's (fping, ip, tc) user + system time from /proc over the
 * window, as percent of one core. `--warm-up S` starts each load window S seconds into one
 * continuous load (default 0: with the load): `capacity`'s rate changes grow over a long load's
 * first minutes, its CPU by less than the rounds' spread (docs/footprint.md, "Twenty-ninth
 * session").
 * Peak RSS is the largest sampled sum over the daemon and its children from start to stop.
 * Needs root, iproute2, fping, iperf3; prints why it skipped otherwise. The machine may be
 * shared: CPU-seconds are the process tree's own, but a busy machine still slows everything.
 *
 *   deno run -A bench/footprint.ts [--seconds N] [--v8-flags=F|none] [--compare-v8-flags=F|none] \
 *     [--entry OTHER/main.ts] \
 *     [--config deno.json] [--only-lua|--no-lua] [--observability] [--daemon-args "FLAGS"] \
 *     [--lua-modes worker,none] [--daemon-env NAME=VALUE]… [--rounds N] [--compare CHECKOUT] \
 *     [--alternate] [--code-cache] [--warm-up S]
 *   deno run -A bench/footprint.ts --idle-only|--load-only [--rounds N] [--compare CHECKOUT[,…]] \
 *     [--seconds N] [--warm-up S] [--daemon-args "FLAGS"] [--keep-stats DIR] [--alternate] \
 *     [--windows S]
 *   deno run -A bench/footprint.ts --long [--duration S] [--compare CHECKOUT[,…]] \
 *     [--side-v8-flags=F]… [--side-env K=V[,K=V]]… [--ns-prefix P] [--daemon-args "FLAGS"] \
 *     [--keep-stats DIR]
 *   (-A: Deno reads /proc only with --allow-all)
 *
 * `--rounds N` repeats the measurement N times, each round also with a bundle of `--compare`'s
 * main.ts if given (interleaved A/B: every metric again with the suffix `_compare`, e.g.
 * `daemon_peak_rss_mb_compare`; with `--idle-only`/`--load-only` several checkouts may be named,
 * comma-separated, the second one's suffix `_compare2` and so on); each metric is then the median
 * of the rounds, and each round's figure is printed. `--alternate` runs the checkouts in reverse
 * order in every even round (the first daemon of a round has measured high). The other checkout
 * is bundled the way it bundles itself (with its src/release/bundle.ts when it has one, else into
 * one file as before code splitting).
 * Every daemon runs with `--no-code-cache`, as the compiled binary (scripts/compile.ts) and `deno
 * task daemon` run: V8's code cache costs the running daemon about 1 MB (docs/footprint.md, "Code
 * cache"); `--code-cache` measures with it.
 * `--idle-only` measures only the idle phase (no load: the daemon goes idle after its idle delay
 * of quiet), and also prints each round's nanosecond figure from schedstat and the wake-ups per
 * second; `--load-only` does the same for the load phase alone, and reports what each direction
 * delivered (iperf3's receiver sums: `load_down_mbit`, `load_up_mbit`). `--keep-stats DIR` keeps
 * each of those daemons' statistics CSV as DIR/NAME.csv (e.g. `load3.csv`, `compare3.csv`,
 * `compare2_3.csv`) and its output as DIR/NAME.log. `--windows S` also splits that phase's
 * schedstat time into consecutive windows of S seconds (each round's, per process, and the rounds'
 * median per window): whether a long phase reads as its first 30 s do.
 *
 * `--side-v8-flags=F` (repeatable) adds a daemon of this checkout's bundle with the V8 flags F
 * after the `--compare` ones, with the next suffix: one code with several flag sets.
 * `--side-env K=V[,K=V]` (repeatable) adds one with the release flags and those environment
 * variables (e.g. glibc's `MALLOC_ARENA_MAX=1`), after the `--side-v8-flags` ones.
 * `--long` runs every daemon at the same time, each in a testbed of its own (namespaces named
 * `--ns-prefix`, default `sqmafp-`, then a letter and the pid), under the same saturating load
 * for `--duration S` (default 1800): the machine's noise falls on all of them alike. It prints
 * each daemon's trend at 1, 5, 10, 20 and 30 min (then hourly: RSS, the daemon's own and
 * anonymous part, summed PSS and private pages, the peak so far, open fds, children, its own log
 * lines, V8's full collections and heap when `--trace-gc` is among its flags, CPU so far; and
 * where its anonymous pages are from /proc/PID/smaps: malloc's main arena, the other threads'
 * arenas, V8's pages, stacks, written data pages of files, the rest), then
 * `metric long_peak_rss_mb`, `long_end_rss_mb`, `long_pss_at_peak_mb`, `long_end_pss_mb`,
 * `long_end_private_mb`, `long_private_growth_mb`, `long_cpu_pct`, `long_fds_growth`,
 * `long_children_growth`, `long_log_lines_per_hour`, `long_mark_compacts`, `load_down_mbit`,
 * `load_up_mbit` per daemon (growth: from the 5-minute mark to the end).
 *
 * Ends with `metric daemon_cpu_pct_load`, `daemon_cpu_pct_idle`, `daemon_peak_rss_mb`,
 * `daemon_cpu_pct_load_lua`, `daemon_peak_rss_mb_lua`, and how the daemon's own part of each peak
 * divides (`daemon_rss_anon_mb[_lua]`: its heaps; `daemon_rss_exe_mb[_lua]`: the runtime
 * executable's pages); with `--lua-modes M,…` also `daemon_cpu_pct_load_lua_M`,
 * `daemon_peak_rss_mb_lua_M` (and their memory lines) for each `lua_isolation` M; with
 * `--observability` (a third daemon with
 * `--metrics-listen` and `--mqtt-url` set, nobody looking) also `daemon_cpu_pct_load_observability`,
 * `daemon_cpu_pct_idle_observability`, `daemon_peak_rss_mb_observability`.
 */
import { runAsync, sleep } from "../tests/e2e/cmd.ts";
import { netnsUnavailableReason, removeStaleNamespaces, Testbed } from "../tests/e2e/testbed.ts";
import {
  type AnonKinds,
  anonKinds,
  CLOCK_TICKS,
  type MemorySplit,
  memorySplit,
  openFds,
  RssPeakSampler,
  SchedWindow,
  treePrivate,
  treePss,
  treeSched,
  treeUsage,
} from "./_proc_usage.ts";
import { summariseGc } from "./_gc_trace.ts";
import { afterWarmUp } from "./_warm_up.ts";
import { SchedWindows, type TimedWindow, windowMsPerS } from "./_sched_windows.ts";
import {
  daemonRunArgv,
  testbedDaemonFlags,
  writeTestbedReflectors,
} from "../tests/e2e/daemon_flags.ts";
import {
  DOWNLOAD_PORT,
  iperfOutcome,
  runIperfClient,
  startIperfServer,
  UPLOAD_PORT,
  waitIperfServer,
} from "../tests/e2e/scenario.ts";
import { forEachLine } from "../tests/e2e/probes.ts";
import { DAEMON_V8_FLAGS } from "../src/release/v8_flags.ts";
import { bundleProgram } from "../src/release/bundle.ts";
import { median } from "../src/util/stats.ts";
import { argValue, argValues, envPairs, exitOnHelp } from "./_args.ts";
import { roundOrder } from "./_rounds.ts";
import { BENCH_LINK, BENCH_TESTBED } from "./_testbed_link.ts";

exitOnHelp(import.meta.url);

const ROOT = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
/** The daemon's runtime dir in the release permission set (it may read and write there). */
const RUNTIME_DIR = "/tmp/sqm-autorate";

const PHASE_S = Number(argValue("--seconds") ?? 30);
/**
 * Load before each load window, s (`--warm-up S`, default 0): the window measures the same
 * continuous load from then on. A 60 s warm-up did not move either controller's figure beyond the
 * rounds' spread (docs/footprint.md, "Twenty-ninth session").
 */
const WARM_UP_S = Number(argValue("--warm-up") ?? 0);
/** How often a phase's schedstat window takes a snapshot of the tree (`SchedWindow`). */
const SCHED_PERIOD_MS = 250;
/**
 * V8 flags of every daemon (`--v8-flags=F`, `none` for V8's defaults). Without it each checkout's
 * daemon runs with that checkout's release flags (its src/release/v8_flags.ts), as its `deno task
 * daemon` and binary would; `--compare-v8-flags=F` sets the other checkout's alone.
 */
const V8_FLAGS_ARG = argValue("--v8-flags");
const COMPARE_V8_FLAGS_ARG = argValue("--compare-v8-flags") ?? V8_FLAGS_ARG;
/** `F` of a flags argument, `undefined` for `none`. */
function v8FlagsOf(arg: string): string | undefined {
  return arg === "none" ? undefined : arg;
}
/**
 * What users run is the bundle (`deno task bundle`, the graph `deno task compile` embeds and
 * `deno task daemon` runs), so by default the daemon runs a fresh bundle of this checkout;
 * `--entry main.ts` measures the program from source instead.
 */
const ENTRY_ARG = argValue("--entry");
const ENTRY_CONFIG = argValue("--config") ??
  (ENTRY_ARG === undefined
    ? `${ROOT}/deno.json`
    : `${ENTRY_ARG.replace(/\/[^/]*$/, "")}/deno.json`);
/** Run the daemons with V8's code cache (`--code-cache`), unlike the binary. */
const CODE_CACHE = Deno.args.includes("--code-cache");
/** More daemon flags for every daemon, e.g. `--daemon-args "--rate-controller capacity"`. */
const DAEMON_ARGS = (argValue("--daemon-args") ?? "").split(/\s+/).filter((a) => a !== "");
/** Environment of every daemon beyond PATH, e.g. `--daemon-env MALLOC_ARENA_MAX=1` (repeatable). */
const DAEMON_ENV: Record<string, string> = Object.assign(
  {},
  ...argValues("--daemon-env").map(envPairs),
);
const RUN_PLAIN = !Deno.args.includes("--only-lua");
const RUN_LUA = !Deno.args.includes("--no-lua");
/**
 * Lua daemons to measure: `default` (the official `_lua` metrics) and, with `--lua-modes`, each
 * `lua_isolation` named there (`daemon_cpu_pct_load_lua_worker`, `…_lua_none`, …).
 */
const LUA_MODES = ["default", ...(argValue("--lua-modes")?.split(",").filter((m) => m) ?? [])];
/** Only the idle phase (docs/footprint.md, "Idle CPU"). */
const IDLE_ONLY = Deno.args.includes("--idle-only");
/** Only the load phase, with schedstat per process (docs/footprint.md, "CPU under load"). */
const LOAD_ONLY = Deno.args.includes("--load-only");
/** Rounds; each metric is the median of the rounds. */
const ROUNDS = Math.max(1, Number(argValue("--rounds") ?? 1));
/** With `--alternate`, every even round runs the checkouts in reverse order (`roundOrder`). */
const ALTERNATE = Deno.args.includes("--alternate");
/**
 * Other checkouts (comma-separated) whose bundles are measured in the same rounds: the first with
 * the suffix `_compare`, the next ones `_compare2`, `_compare3`, …
 */
const COMPARES = (argValue("--compare") ?? "").split(",").filter((c) => c !== "")
  .map((c) => c.replace(/\/$/, ""));
/**
 * More daemons of this checkout's bundle, each with the V8 flags `F` of one `--side-v8-flags=F`
 * (repeatable; `none` for V8's defaults), after the `--compare` checkouts and with the next
 * suffixes: the same code with several flag sets in the same rounds or the same long run.
 */
const SIDE_V8_FLAGS = argValues("--side-v8-flags");
/**
 * More daemons of this checkout's bundle with its release flags, each with the environment
 * variables of one `--side-env K=V[,K=V]` (repeatable) on top of `--daemon-env`'s, after the
 * `--side-v8-flags` ones: one code under several allocator settings (docs/footprint.md, "Long runs
 * under load").
 */
const SIDE_ENVS = argValues("--side-env").map(envPairs);
/**
 * `--long`: every daemon (this checkout's, each `--compare`'s and each `--side-v8-flags`') at the
 * same time for `--duration S` of load (default 1800), each in a testbed of its own (docs/footprint.md,
 * "Long runs under load").
 */
const LONG = Deno.args.includes("--long");
/** The long run's load, s. */
const DURATION_S = Number(argValue("--duration") ?? 1800);
/**
 * Prefix of the testbed's namespaces (`--ns-prefix P`, default `sqmafp-`; the pid follows, and in
 * a long run a letter per daemon before it), so that a run outside the testbed lock cannot meet
 * another run's names.
 */
const NS_PREFIX = argValue("--ns-prefix") ?? "sqmafp-";
/**
 * `--windows S`: with `--idle-only`/`--load-only`, the phase's schedstat time also in consecutive
 * windows of S seconds, each round's and the rounds' median per window (docs/footprint.md,
 * "Twenty-ninth session").
 */
const WINDOW_S = argValue("--windows") === undefined ? undefined : Number(argValue("--windows"));
/** A directory to keep each `--idle-only`/`--load-only` daemon's statistics in (`NAME.csv`). */
const KEEP_STATS = argValue("--keep-stats")?.replace(/\/$/, "");
/** Also measure the plain daemon with metrics_listen and mqtt_url set (`--observability`). */
const RUN_OBSERVABILITY = Deno.args.includes("--observability");
/** The daemon's idle delay here (s): the idle window starts once idle mode can have begun. */
const IDLE_DELAY_S = 15;
const STREAMS = 4;

/** Flags the entry's `run --help` lists (an older checkout measured with --entry lacks some). */
let knownFlags = "";
/** `[flag, value]` when the daemon knows the flag, else nothing. */
function optional(flag: string, value: string): string[] {
  return knownFlags.includes(flag) ? [flag, value] : [];
}

/** Daemon flags for the testbed (files in `dir`). */
function daemonFlags(dir: string, extra: readonly string[]): string[] {
  return [
    ...testbedDaemonFlags({
      dir,
      upKbit: BENCH_LINK.upKbit,
      downKbit: BENCH_LINK.downKbit,
      // An older checkout measured with --entry may lack the flag.
      stateDir: knownFlags.includes("--state-dir"),
    }),
    ...optional("--idle-delay", String(IDLE_DELAY_S)),
    ...DAEMON_ARGS,
    ...extra,
  ];
}

/** The daemon's log (its stdout and stderr) in `dir`. */
const logOf = (dir: string, name: string) => `${dir}/${name}.log`;

/** The daemon process, its output going to a log file. */
class Daemon {
  readonly child: Deno.ChildProcess;
  readonly rss: RssPeakSampler;
  readonly #log: Deno.FsFile;
  readonly #statsFile: string;

  constructor(
    tb: Testbed,
    options: {
      dir: string;
      name: string;
      extra: readonly string[];
      /** Entry, its config and V8 flags (default: the measured one). */
      entry?: Entry;
      /** RSS sampling period, ms (default 200). */
      samplePeriodMs?: number;
    },
  ) {
    const argv = tb.exec(tb.ns.router, [
      ...daemonRunArgv([
        ...daemonFlags(options.dir, options.extra),
      ], {
        entry: options.entry?.path ?? ENTRY,
        config: options.entry?.config ?? ENTRY_CONFIG,
        v8Flags: (options.entry ?? OWN_ENTRY).v8Flags,
        codeCache: CODE_CACHE,
      }),
    ]);
    this.#statsFile = `${options.dir}/stats.csv`;
    try {
      Deno.removeSync(this.#statsFile);
    } catch {
      // not there yet
    }
    this.#log = Deno.openSync(logOf(options.dir, options.name), {
      write: true,
      create: true,
      truncate: true,
    });
    this.child = tb.track(
      new Deno.Command(argv[0], {
        args: argv.slice(1),
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        clearEnv: true,
        env: {
          PATH: Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin",
          NO_COLOR: "1",
          ...DAEMON_ENV,
          ...(options.entry ?? OWN_ENTRY).env,
        },
      }).spawn(),
    );
    // `ip netns exec` execs the program, so this pid is the daemon itself.
    this.rss = new RssPeakSampler(this.child.pid, options.samplePeriodMs);
    const enc = new TextEncoder();
    // Whole lines, so that the daemon's log and V8's `--trace-gc` (stdout) never interleave
    // within a line.
    const pump = (s: ReadableStream<Uint8Array>) =>
      forEachLine(s, (line) => this.#log.writeSync(enc.encode(`${line}\n`)));
    Promise.all([pump(this.child.stdout), pump(this.child.stderr)])
      .catch(() => {})
      .finally(() => {
        this.#log.writeSync(enc.encode("-- end of output\n"));
      });
  }

  /** Waits (at most `timeoutS`) for the controller's first statistics row. */
  async waitForControl(timeoutS: number, logPath: string): Promise<void> {
    const deadline = Date.now() + timeoutS * 1000;
    while (Date.now() < deadline) {
      try {
        if (Deno.readTextFileSync(this.#statsFile).split("\n").length > 2) return;
      } catch {
        // not written yet
      }
      const exited = await Promise.race([this.child.status.then(() => true), sleep(250)]);
      if (exited === true) break;
    }
    throw new Error(`daemon wrote no statistics within ${timeoutS} s:\n${tail(logPath)}`);
  }

  /** Statistics rows written so far (header excluded). */
  statsRows(): number {
    try {
      return Deno.readTextFileSync(this.#statsFile).split("\n").filter((l) => l !== "").length - 1;
    } catch {
      return 0;
    }
  }

  /** The daemon's own memory split just before it was stopped (executable share included). */
  atStop: MemorySplit | undefined;

  /** SIGTERM, SIGKILL after 5 s; stops the RSS sampler. */
  async stop(): Promise<void> {
    this.rss.sample();
    this.rss.stop();
    this.atStop ??= memorySplit(this.child.pid);
    try {
      this.child.kill("SIGTERM");
    } catch {
      // already exited
    }
    const killer = setTimeout(() => {
      try {
        this.child.kill("SIGKILL");
      } catch {
        // already exited
      }
    }, 5000);
    await this.child.status;
    clearTimeout(killer);
  }
}

function tail(path: string): string {
  try {
    return Deno.readTextFileSync(path).trimEnd().split("\n").slice(-15).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Delivered throughput of one load phase (iperf3's receiver sums), Mbit/s; `NaN` if unread. */
interface Delivered {
  downMbit: number;
  upMbit: number;
}

/**
 * Saturating TCP both ways for `seconds`: iperf3 download (-R) and upload, two servers. Returns
 * what each direction delivered (docs/controllers.md, "Two-way load through FIFO shapers").
 */
async function load(tb: Testbed, seconds: number): Promise<Delivered> {
  const servers = [DOWNLOAD_PORT, UPLOAD_PORT].map((port) => startIperfServer(tb, port));
  try {
    for (const port of [DOWNLOAD_PORT, UPLOAD_PORT]) await waitIperfServer(tb, port);
    const flows = { streams: STREAMS, seconds };
    const results = await Promise.all([
      runIperfClient(tb, { reverse: true, port: DOWNLOAD_PORT, ...flows }),
      runIperfClient(tb, { reverse: false, port: UPLOAD_PORT, ...flows }),
    ]);
    const [down, up] = results.map((r) => iperfOutcome(r, seconds));
    for (const o of [down, up]) if (o.error !== "") console.log(`footprint: ${o.error}`);
    return { downMbit: down.bps / 1e6, upMbit: up.bps / 1e6 };
  } finally {
    for (const s of servers) {
      try {
        s.kill("SIGKILL");
      } catch {
        // exited after its one test
      }
      await s.status;
    }
  }
}

/**
 * Saturating load of `WARM_UP_S` + `PHASE_S`, returned once the warm-up is over: what is left of
 * it (`rest`) is the load window (`afterWarmUp`).
 */
function warmLoad(tb: Testbed): Promise<{ rest: Promise<Delivered> }> {
  return afterWarmUp(load(tb, WARM_UP_S + PHASE_S), { warmUpS: WARM_UP_S });
}

/**
 * CPU percent of one core used by the daemon's tree while `during` runs; prints the share of each
 * process that lived through the window (`label`).
 */
async function cpuPct(pid: number, label: string, during: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  const u0 = treeUsage(pid);
  await during();
  const u1 = treeUsage(pid);
  const wallS = (performance.now() - t0) / 1000;
  const before = new Map(u0.procs.map((p) => [p.pid, p.cpuTicks]));
  const shares = u1.procs.filter((p) => before.has(p.pid)).map((p) =>
    `${p.comm} ${((p.cpuTicks - before.get(p.pid)!) / CLOCK_TICKS / wallS * 100).toFixed(2)} %`
  );
  console.log(
    `footprint: ${label} CPU by process (the daemon's includes reaped children): ${
      shares.join(", ")
    }`,
  );
  return (u1.cpuS - u0.cpuS) / wallS * 100;
}

/** One daemon's figures over a phase (`phaseRound`). */
interface PhaseFigures {
  /** Percent of one core from clock ticks (the metric's source). */
  pct: number;
  /** The same from schedstat snapshots. */
  precisePct: number;
  delivered?: Delivered;
  /** With `--windows`: the phase's schedstat time by window. */
  windows?: TimedWindow[];
}

/** Each window of a phase: its span, ms of CPU a second in all and per command. */
function describeWindows(wins: SchedWindows): string {
  return `windows (schedstat, ms of CPU a second): ${
    wins.windows().map((w) => {
      const { all, byComm } = windowMsPerS(w);
      const parts = [...byComm].map(([c, v]) =>
        `${c} ${v.ms.toFixed(2)} ms/s ${v.wakeUps.toFixed(1)}/s`
      ).join(", ");
      return `${w.fromS.toFixed(1)}–${w.toS.toFixed(1)} s ${all.toFixed(2)} (${parts})`;
    }).join("; ")
  }`;
}

/**
 * CPU of one daemon over `PHASE_S`, idle (after its idle delay) or under load: percent of one core
 * from clock ticks (the metric's source, as in the full run) and from schedstat, and each
 * process's ms of CPU and wake-ups per second.
 */
async function phaseRound(
  tb: Testbed,
  name: string,
  options: { entry: Entry; phase: "idle" | "load" },
): Promise<PhaseFigures> {
  const { entry, phase } = options;
  const d = new Daemon(tb, { dir, name, extra: [], entry });
  let delivered: Delivered | undefined;
  try {
    await d.waitForControl(60, `${dir}/${name}.log`);
    if (phase === "idle") await sleep((IDLE_DELAY_S + 3) * 1000);
    const loading = phase === "load" ? (await warmLoad(tb)).rest : undefined;
    // Snapshots through the window: children replaced in it (tc, the pinger) still count.
    const start = treeSched(d.child.pid);
    const win = new SchedWindow(start);
    const t0 = performance.now();
    const wins = WINDOW_S === undefined
      ? undefined
      : new SchedWindows(start, { periodS: WINDOW_S });
    const take = () => {
      const now = treeSched(d.child.pid);
      win.add(now);
      wins?.add(now, (performance.now() - t0) / 1000);
    };
    const snap = setInterval(take, SCHED_PERIOD_MS);
    let pct: number;
    try {
      pct = await cpuPct(
        d.child.pid,
        `${name} ${phase}`,
        async () => {
          if (phase === "idle") await sleep(PHASE_S * 1000);
          else delivered = await loading;
        },
      );
    } finally {
      clearInterval(snap);
    }
    take();
    const precisePct = win.runNs / 1e7 / PHASE_S;
    if (wins !== undefined) console.log(`footprint: ${name} ${phase} ${describeWindows(wins)}`);
    const parts = [...win.byComm()].map(([comm, [ns, n]]) =>
      `${comm} ${(ns / 1e6 / PHASE_S).toFixed(2)} ms/s ${(n / PHASE_S).toFixed(1)} wake-ups/s`
    );
    console.log(
      `footprint: ${name} ${phase} ${pct.toFixed(2)} % (ticks), ${precisePct.toFixed(3)} % ` +
        `(schedstat): ${parts.join(", ")}; peak RSS so far ${mb(d.rss.peakBytes)} MB ` +
        `(daemon ${mb(d.rss.peakRootBytes)}, anonymous ${mb(d.rss.peakRoot?.anonBytes ?? 0)}, ` +
        `summed PSS ${mb(d.rss.pssAtPeakBytes)}; ` +
        `${describePeak(d)})`,
    );
    if (
      phase === "idle" &&
      !Deno.readTextFileSync(`${dir}/${name}.log`).includes("entering idle mode")
    ) {
      throw new Error(`${name} never went idle:\n${tail(`${dir}/${name}.log`)}`);
    }
    return { pct, precisePct, delivered, windows: wins?.windows() };
  } finally {
    await d.stop();
    if (KEEP_STATS !== undefined) {
      await Deno.copyFile(`${dir}/stats.csv`, `${KEEP_STATS}/${name}.csv`).catch(() => {});
      await Deno.copyFile(`${dir}/${name}.log`, `${KEEP_STATS}/${name}.log`).catch(() => {});
    }
  }
}

function describePeak(d: Daemon): string {
  return [...d.rss.peakByComm].map(([c, b]) => `${c} ${(b / 1e6).toFixed(1)} MB`).join(", ");
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

/** Each metric's figures, one per round, in the order first reported. */
const results = new Map<string, { unit: string; values: number[] }>();

const fmt = (value: number, unit: string) => value.toFixed(unit === "MB" ? 1 : 2);

/**
 * Records one figure of a metric: printed at once as a metric line with one round (so a later
 * failure cannot lose it), else as the round's figure and, at the end, the median.
 */
function report(name: string, value: number, unit: string): void {
  const r = results.get(name) ?? { unit, values: [] };
  r.values.push(value);
  results.set(name, r);
  if (ROUNDS === 1) console.log(`metric ${name} ${fmt(value, unit)} ${unit}`);
  else console.log(`footprint: round ${r.values.length}: ${name} ${fmt(value, unit)} ${unit}`);
}

/** With rounds: each metric's figures and median, after the last round. */
function reportMedians(): void {
  if (ROUNDS === 1) return;
  for (const [name, { unit, values }] of results) {
    console.log(`footprint: ${name} rounds ${values.map((v) => fmt(v, unit)).join(" ")} ${unit}`);
  }
  for (const [name, { unit, values }] of results) {
    console.log(`metric ${name} ${fmt(median(values), unit)} ${unit}`);
  }
}

/**
 * Where the peak went: the daemon's anonymous pages (its own heaps) against file pages (mostly
 * the runtime executable, shared with every process running it, and a smaller runtime when
 * compiled), and its children. Also as metrics `daemon_rss_anon_mb…`, `daemon_rss_exe_mb…`.
 */
function reportMemory(d: Daemon, suffix: string): void {
  const peak = d.rss.peakRoot;
  const exe = d.atStop?.exeBytes ?? 0;
  if (peak === undefined) return;
  console.log(
    `footprint: peak ${mb(d.rss.peakBytes)} MB = daemon ${mb(d.rss.peakRootBytes)} MB (anonymous ` +
      `${mb(peak.anonBytes)}, file-backed ${mb(peak.fileBytes)}; the executable's pages at stop ` +
      `${mb(exe)}) + children ${mb(d.rss.peakBytes - d.rss.peakRootBytes)} MB; summed PSS ` +
      `then ${mb(d.rss.pssAtPeakBytes)} MB (shared pages such as libc's counted once)`,
  );
  report(`daemon_rss_anon_mb${suffix}`, peak.anonBytes / 1e6, "MB");
  report(`daemon_rss_exe_mb${suffix}`, exe / 1e6, "MB");
}

/** A bundle to run, its config and the daemon's V8 flags (and environment beyond `--daemon-env`). */
interface Entry {
  path: string;
  config: string;
  v8Flags: string | undefined;
  env?: Record<string, string>;
}

/**
 * The plain daemon: `PHASE_S` of load, then `PHASE_S` idle after its idle delay, then load again
 * (idle mode must end and control go on). Metrics with `suffix` (`_compare`).
 */
async function plainRun(tb: Testbed, name: string, entry: Entry, suffix: string): Promise<void> {
  const d = new Daemon(tb, { dir, name, extra: [], entry });
  const logPath = `${dir}/${name}.log`;
  try {
    await d.waitForControl(60, logPath);
    const { rest } = await warmLoad(tb);
    const loadPct = await cpuPct(d.child.pid, `${name} load`, () => rest);
    await sleep((IDLE_DELAY_S + 3) * 1000); // queues drain, then the idle delay passes
    const idlePct = await cpuPct(d.child.pid, `${name} idle`, () => sleep(PHASE_S * 1000));
    // Idle mode must end when traffic returns, and control (statistics rows, which the
    // writer flushes every 10 rows) must go on.
    const rowsIdle = d.statsRows();
    const log = () => Deno.readTextFileSync(logPath);
    const resumeLoad = load(tb, 8);
    const t0 = Date.now();
    while (!log().includes("leaving idle mode") && Date.now() - t0 < 8000) await sleep(100);
    const resumedS = (Date.now() - t0) / 1000;
    await resumeLoad;
    await sleep(1000);
    if (!log().includes("leaving idle mode") || d.statsRows() === rowsIdle) {
      throw new Error(`no control after the load returned:\n${tail(logPath)}`);
    }
    console.log(
      `footprint: load returned after idle: pinging again ${resumedS} s after starting ` +
        `iperf3 (its start-up included), ${d.statsRows() - rowsIdle} rows since`,
    );
    await d.stop();
    console.log(`footprint: ${name} peak RSS by process: ${describePeak(d)}`);
    report(`daemon_cpu_pct_load${suffix}`, loadPct, "%");
    report(`daemon_cpu_pct_idle${suffix}`, idlePct, "%");
    report(`daemon_peak_rss_mb${suffix}`, d.rss.peakBytes / 1e6, "MB");
    reportMemory(d, suffix);
  } finally {
    await d.stop();
    console.log(`footprint: ${name} daemon log tail:\n${tail(logPath)}`);
  }
}

/**
 * A daemon with a Lua plugin under `PHASE_S` of load. `mode` `default` is the daemon's default
 * lua_isolation (the official `_lua` metrics); a mode named with --lua-modes is measured as well,
 * with its own metric names (docs/footprint.md, "Lua").
 */
async function luaRun(
  tb: Testbed,
  options: { mode: string; round: number; entry: Entry; suffix: string },
): Promise<void> {
  const { mode, entry, suffix } = options;
  const kind = mode === "default" ? "lua" : `lua_${mode}`;
  const name = `${kind}${suffix}${options.round}`;
  const d = new Daemon(tb, {
    dir,
    name,
    extra: [
      "--plugin-scripts",
      "builtin:delay_tuner",
      ...(mode === "default" ? [] : optional("--lua-isolation", mode)),
    ],
    entry,
  });
  try {
    await d.waitForControl(60, `${dir}/${name}.log`);
    const { rest } = await warmLoad(tb);
    const loadPct = await cpuPct(d.child.pid, `${name} load`, () => rest);
    await d.stop();
    console.log(`footprint: ${name} peak RSS by process: ${describePeak(d)}`);
    report(`daemon_cpu_pct_load_${kind}${suffix}`, loadPct, "%");
    report(`daemon_peak_rss_mb_${kind}${suffix}`, d.rss.peakBytes / 1e6, "MB");
    reportMemory(d, `_${kind}${suffix}`);
  } finally {
    await d.stop();
    console.log(`footprint: ${name} daemon log tail:\n${tail(`${dir}/${name}.log`)}`);
  }
}

const reason = netnsUnavailableReason();
if (reason !== undefined) {
  console.log(`footprint: skipped: ${reason}`);
  Deno.exit(0);
}
const stale = removeStaleNamespaces();
if (stale.length > 0) console.log(`footprint: removed stale namespaces ${stale.join(" ")}`);
await Deno.mkdir(RUNTIME_DIR, { recursive: true });
const dir = await Deno.makeTempDir({ dir: RUNTIME_DIR, prefix: "footprint-" });

/**
 * Bundles `checkout`'s main.ts into `outdir` the way that checkout bundles itself: with its
 * src/release/bundle.ts when it has one (code splitting), else into one file, as `deno task
 * bundle` did before.
 */
async function bundleCheckout(checkout: string, outdir: string): Promise<string> {
  const recipe = `${checkout}/src/release/bundle.ts`;
  let bundle: typeof bundleProgram | undefined;
  try {
    Deno.statSync(recipe);
    bundle = checkout === ROOT
      ? bundleProgram
      : (await import(`file://${recipe}`)).bundleProgram as typeof bundleProgram;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (bundle !== undefined) {
    return await bundle({ entry: `${checkout}/main.ts`, outdir, cwd: checkout });
  }
  const out = `${outdir}.js`;
  const r = await runAsync([
    Deno.execPath(),
    "bundle",
    "--config",
    `${checkout}/deno.json`,
    "--platform",
    "deno",
    "--minify",
    "-o",
    out,
    `${checkout}/main.ts`,
  ], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`deno bundle of ${checkout} failed: ${r.stderr}`);
  return out;
}

const ENTRY = ENTRY_ARG ?? await bundleCheckout(ROOT, `${dir}/bundle`);
/** This checkout's release V8 flags as one `F`. */
const OWN_V8_FLAGS = DAEMON_V8_FLAGS.join(",");

/**
 * The release V8 flags of another checkout (its src/release/v8_flags.ts; an older checkout
 * without one gets this one's).
 */
async function releaseV8Flags(checkout: string): Promise<string> {
  try {
    const m = await import(`file://${checkout}/src/release/v8_flags.ts`);
    return (m.DAEMON_V8_FLAGS as readonly string[]).join(",");
  } catch {
    return OWN_V8_FLAGS;
  }
}

const OWN_ENTRY: Entry = {
  path: ENTRY,
  config: ENTRY_CONFIG,
  v8Flags: v8FlagsOf(V8_FLAGS_ARG ?? OWN_V8_FLAGS),
};
/** The entries of each round, with their metrics' suffix. */
const ENTRIES: [string, Entry][] = [["", OWN_ENTRY]];
/** The suffix of the next entry: `_compare`, then `_compare2` and so on. */
const nextSuffix = () => `_compare${ENTRIES.length === 1 ? "" : ENTRIES.length}`;
for (const checkout of COMPARES) {
  const suffix = nextSuffix();
  ENTRIES.push([suffix, {
    path: await bundleCheckout(checkout, `${dir}/${suffix.slice(1)}`),
    config: `${checkout}/deno.json`,
    v8Flags: v8FlagsOf(COMPARE_V8_FLAGS_ARG ?? await releaseV8Flags(checkout)),
  }]);
}
for (const flags of SIDE_V8_FLAGS) {
  ENTRIES.push([nextSuffix(), { ...OWN_ENTRY, v8Flags: v8FlagsOf(flags) }]);
}
for (const env of SIDE_ENVS) ENTRIES.push([nextSuffix(), { ...OWN_ENTRY, env }]);
for (const [, e] of ENTRIES) {
  // Fill the module cache outside the namespaces (they have no network).
  await runAsync([Deno.execPath(), "cache", "--config", e.config, e.path], { timeoutMs: 120_000 });
}
knownFlags = (await runAsync([
  Deno.execPath(),
  "run",
  "-P=dev",
  "--config",
  ENTRY_CONFIG,
  ENTRY,
  "run",
  "--help",
], { timeoutMs: 120_000 })).stdout;
for (const f of ["--idle-delay", "--state-dir", "--lua-isolation"]) {
  if (!knownFlags.includes(f)) console.log(`footprint: ${ENTRY} has no ${f}; run without it`);
}
// With `--code-cache`, V8's code cache of every module a daemon loads, written beforehand so that
// no daemon pays for writing it: check-config with a plugin also starts the Lua engine (the chunks
// of a split bundle).
for (const [, e] of CODE_CACHE ? ENTRIES : []) {
  const r = await runAsync([
    Deno.execPath(),
    "run",
    "-P=dev",
    "--config",
    e.config,
    e.path,
    "check-config",
    ...daemonFlags(
      dir,
      RUN_LUA && !IDLE_ONLY && !LOAD_ONLY ? ["--plugin-scripts", "builtin:delay_tuner"] : [],
    ),
  ], { timeoutMs: 120_000 });
  if (r.code !== 0) console.log(`footprint: warm-up of ${e.path} failed: ${r.stderr.trim()}`);
}

/**
 * The rounds' median of each whole window (ms of CPU a second; a last window shorter than 0.9 of
 * the period left out) and each round's figure.
 */
function windowMedians(label: string, rs: readonly PhaseFigures[]): string {
  const whole = rs.map((r) =>
    (r.windows ?? []).filter((w) => w.toS - w.fromS >= 0.9 * WINDOW_S!).map((w) =>
      windowMsPerS(w).all
    )
  );
  const n = Math.max(0, ...whole.map((w) => w.length));
  const cols = Array.from(
    { length: n },
    (_, i) => whole.flatMap((w) => i < w.length ? [w[i]] : []),
  );
  return `footprint: ${label} windows of ${WINDOW_S} s, median ms/s (rounds): ${
    cols.map((c, i) =>
      `${i * WINDOW_S!}–${(i + 1) * WINDOW_S!} s ${median(c).toFixed(2)} (${
        c.map((v) => v.toFixed(2)).join(" ")
      })`
    ).join("; ")
  }`;
}

/** One daemon of a long run, in its own testbed. */
interface LongSide {
  readonly suffix: string;
  readonly entry: Entry;
  readonly tb: Testbed;
  readonly dir: string;
  readonly name: string;
  readonly daemon: Daemon;
  /** The tree's CPU seconds when the load began. */
  cpu0S: number;
}

/** A long-run daemon's state at one moment of its load. */
interface LongSnapshot {
  /** s since the load began. */
  readonly atS: number;
  /** Summed RSS of the daemon and its children, MB. */
  readonly rssMb: number;
  /** The daemon's own RSS and its anonymous part, MB. */
  readonly daemonMb: number;
  readonly anonMb: number;
  /** The tree's summed PSS, MB. */
  readonly pssMb: number;
  /**
   * The tree's summed private pages (USS), MB: the other daemons of the run share the `deno`
   * executable's pages and so lower each one's PSS; the private pages do not depend on them.
   */
  readonly ussMb: number;
  /** The largest summed RSS so far (sampled every 0.5 s), MB. */
  readonly peakMb: number;
  /** The daemon's open file descriptors and its live descendants. */
  readonly fds: number;
  readonly children: number;
  /** The daemon's own output lines so far (`--trace-gc` lines not counted). */
  readonly ownLines: number;
  /** Full collections so far and the heap after the last collection, MB (with `--trace-gc`). */
  readonly markCompacts: number;
  readonly heapMb: number;
  /** CPU of the tree since the load began, % of one core. */
  readonly cpuPct: number;
  /** Where the daemon's anonymous pages are (/proc/PID/smaps). */
  readonly anon: AnonKinds | undefined;
}

/** `, env K=V …` of an entry with environment of its own, else nothing. */
function describeEnv(e: Entry): string {
  const env = Object.entries(e.env ?? {});
  return env.length === 0 ? "" : `, env ${env.map(([k, v]) => `${k}=${v}`).join(" ")}`;
}

/** The trend's moments, s from the load's start: 1, 5, 10, 20 and 30 min, then every hour. */
function longCheckpoints(durationS: number): number[] {
  const marks = [60, 300, 600, 1200, 1800];
  for (let h = 3600; h < durationS; h += 3600) marks.push(h);
  return [...marks.filter((m) => m < durationS), durationS];
}

function longSnapshot(side: LongSide, atS: number): LongSnapshot {
  const pid = side.daemon.child.pid;
  const u = treeUsage(pid);
  const own = u.procs.find((p) => p.pid === pid);
  let gc = summariseGc("");
  try {
    gc = summariseGc(Deno.readTextFileSync(logOf(side.dir, side.name)));
  } catch {
    // no output yet
  }
  return {
    atS,
    rssMb: u.rssBytes / 1e6,
    daemonMb: (own?.rssBytes ?? NaN) / 1e6,
    anonMb: (memorySplit(pid, { exe: false })?.anonBytes ?? NaN) / 1e6,
    pssMb: treePss(u.procs, pid) / 1e6,
    ussMb: treePrivate(u.procs, pid) / 1e6,
    peakMb: side.daemon.rss.peakBytes / 1e6,
    fds: openFds(pid),
    children: u.procs.length - 1,
    ownLines: gc.ownLines,
    markCompacts: gc.markCompacts,
    heapMb: gc.lastAfterMb,
    cpuPct: (u.cpuS - side.cpu0S) / atS * 100,
    anon: anonKinds(pid),
  };
}

function describeSnapshot(s: LongSnapshot): string {
  return `${(s.atS / 60).toFixed(0)} min: RSS ${mb(s.rssMb * 1e6)} MB (daemon ${
    mb(s.daemonMb * 1e6)
  }, anonymous ${mb(s.anonMb * 1e6)}), summed PSS ${mb(s.pssMb * 1e6)}, private ${
    mb(s.ussMb * 1e6)
  }, peak so far ${
    mb(s.peakMb * 1e6)
  }; ${s.fds} fds, ${s.children} children, ${s.ownLines} own log lines; ${s.markCompacts} ` +
    `mark-compacts, heap ${s.heapMb.toFixed(1)} MiB; CPU ${s.cpuPct.toFixed(2)} % since the start` +
    (s.anon === undefined ? "" : `; anonymous MB: ${describeAnon(s.anon)}`);
}

function describeAnon(a: AnonKinds): string {
  return `malloc main ${mb(a.mallocMain)}, malloc arenas ${mb(a.mallocArenas)}, V8 ${
    mb(a.v8)
  }, stacks ${mb(a.stacks)}, file data ${mb(a.fileData)}, other ${mb(a.other)}`;
}

/**
 * Saturating load for `seconds` in pieces of at most 5 min (iperf3's JSON of a long test is
 * large, and a failed piece loses only itself); the mean of what each direction delivered.
 */
async function longLoad(tb: Testbed, seconds: number): Promise<Delivered> {
  const t0 = performance.now();
  let down = 0;
  let up = 0;
  let loaded = 0;
  for (;;) {
    const left = Math.floor(seconds - (performance.now() - t0) / 1000);
    if (left < 5) break;
    const piece = Math.min(300, left);
    const d = await load(tb, piece);
    down += d.downMbit * piece;
    up += d.upMbit * piece;
    loaded += piece;
  }
  return { downMbit: down / loaded, upMbit: up / loaded };
}

/**
 * `--long`: every entry's daemon at the same time, each in a testbed of its own (namespaces
 * `NS_PREFIX` + a letter + the pid), all under the same saturating load for `DURATION_S`: the
 * machine's noise falls on every daemon alike. Prints each daemon's trend (1, 5, 10, 20, 30 min,
 * then hourly), then its peak RSS, the RSS and summed PSS at the end, the CPU over the load and
 * whether descriptors, children or the log grew (docs/footprint.md, "Long runs under load").
 */
async function longRun(): Promise<void> {
  const sides: LongSide[] = [];
  const beds: Testbed[] = [];
  try {
    for (const [i, [suffix, entry]] of ENTRIES.entries()) {
      const letter = String.fromCharCode(97 + i);
      const sideDir = `${dir}/${letter}`;
      await Deno.mkdir(sideDir);
      await writeTestbedReflectors(sideDir);
      const tb = Testbed.create({
        ...BENCH_TESTBED,
        tempDir: dir,
        namePrefix: `${NS_PREFIX}${letter}-`,
      });
      beds.push(tb);
      const name = `long${suffix}`;
      const daemon = new Daemon(tb, { dir: sideDir, name, extra: [], entry, samplePeriodMs: 500 });
      sides.push({ suffix, entry, tb, dir: sideDir, name, daemon, cpu0S: 0 });
    }
    console.log(
      `footprint: long run, ${DURATION_S} s of ${STREAMS}+${STREAMS} TCP streams, ` +
        `${sides.length} daemons at once (${
          sides.map((s) =>
            `${s.name}: ${s.entry.path}, V8 flags ${s.entry.v8Flags ?? "(none)"}${
              describeEnv(s.entry)
            }`
          ).join("; ")
        }), daemon flags: ${DAEMON_ARGS.join(" ") || "(none)"}`,
    );
    await Promise.all(sides.map((s) => s.daemon.waitForControl(60, logOf(s.dir, s.name))));
    const t0 = performance.now();
    for (const s of sides) s.cpu0S = treeUsage(s.daemon.child.pid).cpuS;
    const loads = Promise.all(sides.map((s) => longLoad(s.tb, DURATION_S)));
    const trend = new Map<LongSide, LongSnapshot[]>(sides.map((s) => [s, []]));
    for (const at of longCheckpoints(DURATION_S)) {
      await sleep(Math.max(0, t0 + at * 1000 - performance.now()));
      for (const s of sides) {
        const snap = longSnapshot(s, (performance.now() - t0) / 1000);
        trend.get(s)!.push(snap);
        console.log(`footprint: ${s.name} ${describeSnapshot(snap)}`);
      }
    }
    const delivered = await loads;
    // Each daemon's last lines before the accounts (on a failure the error says what happened).
    for (const s of sides) {
      await s.daemon.stop();
      console.log(`footprint: ${s.name} daemon log tail:\n${tail(logOf(s.dir, s.name))}`);
      if (KEEP_STATS === undefined) continue;
      await Deno.copyFile(`${s.dir}/stats.csv`, `${KEEP_STATS}/${s.name}.csv`).catch(() => {});
      await Deno.copyFile(logOf(s.dir, s.name), `${KEEP_STATS}/${s.name}.log`).catch(() => {});
    }
    const growth = sides.map((s) => {
      const snaps = trend.get(s)!;
      const end = snaps[snaps.length - 1];
      // Growth after start-up: from the 5-minute mark (or the first) to the end.
      const base = snaps.find((x) => x.atS >= 290) ?? snaps[0];
      const hours = (end.atS - base.atS) / 3600;
      const linesPerHour = hours > 0 ? (end.ownLines - base.ownLines) / hours : NaN;
      console.log(
        `footprint: ${s.name} (V8 flags ${s.entry.v8Flags ?? "(none)"}${
          describeEnv(s.entry)
        }): peak RSS ${mb(s.daemon.rss.peakBytes)} MB (summed PSS then ${
          mb(s.daemon.rss.pssAtPeakBytes)
        }; ${describePeak(s.daemon)}); ` +
          `RSS ${snaps.map((x) => mb(x.rssMb * 1e6)).join(" ")} MB at ${
            snaps.map((x) => (x.atS / 60).toFixed(0)).join(" ")
          } min; from ${
            (base.atS / 60).toFixed(0)
          } min to the end: fds ${base.fds} → ${end.fds}, ` +
          `children ${base.children} → ${end.children}, own log lines ${base.ownLines} → ` +
          `${end.ownLines} (${linesPerHour.toFixed(1)} an hour), mark-compacts ${end.markCompacts}`,
      );
      return { end, base, linesPerHour };
    });
    // The metric lines last, after every daemon's account.
    for (const [i, s] of sides.entries()) {
      const { end, base, linesPerHour } = growth[i];
      report(`long_peak_rss_mb${s.suffix}`, s.daemon.rss.peakBytes / 1e6, "MB");
      report(`long_end_rss_mb${s.suffix}`, end.rssMb, "MB");
      report(`long_pss_at_peak_mb${s.suffix}`, s.daemon.rss.pssAtPeakBytes / 1e6, "MB");
      report(`long_end_pss_mb${s.suffix}`, end.pssMb, "MB");
      report(`long_end_private_mb${s.suffix}`, end.ussMb, "MB");
      report(`long_private_growth_mb${s.suffix}`, end.ussMb - base.ussMb, "MB");
      report(`long_cpu_pct${s.suffix}`, end.cpuPct, "%");
      report(`long_fds_growth${s.suffix}`, end.fds - base.fds, "fds");
      report(`long_children_growth${s.suffix}`, end.children - base.children, "processes");
      report(`long_log_lines_per_hour${s.suffix}`, linesPerHour, "lines/h");
      report(`long_mark_compacts${s.suffix}`, end.markCompacts, "collections");
      report(`load_down_mbit${s.suffix}`, delivered[i].downMbit, "Mbit/s");
      report(`load_up_mbit${s.suffix}`, delivered[i].upMbit, "Mbit/s");
    }
  } finally {
    for (const s of sides) await s.daemon.stop();
    for (const tb of beds) tb.destroy();
  }
}

/** The rounds of the full run or of `--idle-only`/`--load-only`, in one testbed. */
async function roundsRun(): Promise<void> {
  const tb = Testbed.create({ ...BENCH_TESTBED, tempDir: dir, namePrefix: NS_PREFIX });
  try {
    await writeTestbedReflectors(dir);
    console.log(
      `footprint: ${ENTRIES.map(([, e]) => e.path).join(" vs ")}, ${PHASE_S} s phases, ` +
        `${ROUNDS} round(s), load windows after ${WARM_UP_S} s of load, ` +
        `${STREAMS}+${STREAMS} TCP streams, V8 flags: ` +
        `${ENTRIES.map(([, e]) => e.v8Flags ?? "(none)").join(" vs ")}, ` +
        `daemon flags: ${DAEMON_ARGS.join(" ") || "(none)"}, ` +
        `V8 code cache: ${CODE_CACHE ? "yes" : "no (as the binary)"}`,
    );

    const onlyPhase = IDLE_ONLY ? "idle" : LOAD_ONLY ? "load" : undefined;
    if (onlyPhase !== undefined) {
      // A/B interleaved: this checkout and the other one in turns, so both see the same machine.
      const figures = new Map<string, PhaseFigures[]>();
      for (let round = 1; round <= ROUNDS; round++) {
        for (const [suffix, e] of roundOrder(ENTRIES, { round, alternate: ALTERNATE })) {
          const name = suffix === ""
            ? `${onlyPhase}${round}`
            : suffix === "_compare"
            ? `compare${round}`
            : `${suffix.slice(1)}_${round}`;
          const r = await phaseRound(tb, name, { entry: e, phase: onlyPhase });
          figures.set(suffix, [...figures.get(suffix) ?? [], r]);
          report(`daemon_cpu_pct_${onlyPhase}${suffix}`, r.pct, "%");
          if (r.delivered !== undefined) {
            report(`load_down_mbit${suffix}`, r.delivered.downMbit, "Mbit/s");
            report(`load_up_mbit${suffix}`, r.delivered.upMbit, "Mbit/s");
          }
        }
      }
      for (const [suffix, rs] of figures) {
        console.log(
          `footprint: ${onlyPhase}${suffix} median ${
            median(rs.map((r) => r.precisePct)).toFixed(3)
          } % (schedstat; rounds ${rs.map((r) => r.precisePct.toFixed(3)).join(" ")})`,
        );
        if (WINDOW_S !== undefined) console.log(windowMedians(`${onlyPhase}${suffix}`, rs));
      }
    }

    for (let round = 1; round <= ROUNDS && onlyPhase === undefined; round++) {
      // A/B interleaved: each daemon of this checkout, then the same of the other one.
      const order = roundOrder(ENTRIES, { round, alternate: ALTERNATE });
      for (const [suffix, e] of RUN_PLAIN ? order : []) {
        await plainRun(tb, `plain${suffix}${round}`, e, suffix);
      }
      if (RUN_OBSERVABILITY && round === 1) {
        // The plain daemon again with /metrics, the live page and an MQTT publisher configured
        // (no broker: it retries with backoff) and nobody requesting anything: what the
        // observability costs when no one looks (docs/observability.md).
        const d = new Daemon(tb, {
          dir,
          name: "observability",
          extra: ["--metrics-listen", "127.0.0.1:9101", "--mqtt-url", "mqtt://127.0.0.1:1883"],
        });
        try {
          await d.waitForControl(60, `${dir}/observability.log`);
          const { rest } = await warmLoad(tb);
          const loadPct = await cpuPct(d.child.pid, "observability load", () => rest);
          await sleep((IDLE_DELAY_S + 3) * 1000);
          const idlePct = await cpuPct(
            d.child.pid,
            "observability idle",
            () => sleep(PHASE_S * 1000),
          );
          await d.stop();
          console.log(`metric daemon_cpu_pct_load_observability ${loadPct.toFixed(2)} %`);
          console.log(`metric daemon_cpu_pct_idle_observability ${idlePct.toFixed(2)} %`);
          console.log(
            `metric daemon_peak_rss_mb_observability ${(d.rss.peakBytes / 1e6).toFixed(1)} MB`,
          );
        } finally {
          await d.stop();
          console.log(
            `footprint: observability daemon log tail:\n${tail(`${dir}/observability.log`)}`,
          );
        }
      }
      for (const mode of RUN_LUA ? LUA_MODES : []) {
        for (const [suffix, entry] of order) await luaRun(tb, { mode, round, entry, suffix });
      }
    }
    reportMedians();
  } finally {
    tb.destroy();
  }
}

try {
  if (LONG) await longRun();
  else await roundsRun();
} finally {
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
