/**
 * The real daemon for a long run, looking for a slope (docs/footprint.md, "The real daemon, 80
 * minutes (thirty-first session)"). Root, `-A`; not part of `deno task bench` (it takes as long as
 * `--minutes`).
 *
 *   deno run -A bench/soak_real.ts [--minutes 80] [--controllers capacity,ewma,lua] \
 *     [--warm-up-min 15] [--ns-prefix soakreal] [--out PREFIX] [--snapshots SIDE,…]
 *   deno run -A bench/soak_real.ts --analyse PREFIX   # the figures of an earlier run's raw files
 *
 * Each controller gets a testbed of its own (tests/e2e/testbed.ts, namespaces `<prefix><letter>-
 * <pid>-…`; `capacity` on TBF roots, `ewma` and `lua` on an HTB class) and the daemon from source
 * under the release permission set (`-P=daemon`) and V8 flags, accelerated: `--tick-interval 0.05
 * --min-change-interval 0.05 --peer-reselection-time 1 --idle-delay 10`, the metrics listener on,
 * `--inspect` on the namespace's loopback. `lua` is the shipped Lua EWMA ratecontroller
 * (`builtin:ewma`) with the `builtin:delay_tuner` plugin. Every testbed gets the same load: one
 * TCP flow each way (iperf3) for `LOAD_ON_S`, then nothing for `LOAD_OFF_S`, so idle mode enters
 * and leaves every cycle.
 *
 * Every minute, per daemon: RSS and anonymous RSS (/proc/PID/status), open fds, child processes
 * (and zombies among them), the RSS of its tc/fping/ip children, and through bench/_inspect_heap.ts
 * (run in the namespace) the `/metrics` counters and the JS heap after a forced GC. Every second
 * it notes the children's pids, which counts the tc coprocess replacements and fping starts. Raw
 * samples go to `PREFIX<ctl>.jsonl`, the daemons' logs to `PREFIX<ctl>.log`. At the end, per
 * controller, the least-squares slopes after the warm-up in kB an hour (and per 1000 decisions),
 * and the same slope over the first and the second half of that span (the noise band):
 *
 *   metric soak_real_<ctl>_heap_slope_kb_per_h …
 */
import { ADDR, Testbed } from "../tests/e2e/testbed.ts";
import {
  daemonRunArgv,
  testbedDaemonFlags,
  writeTestbedReflectors,
} from "../tests/e2e/daemon_flags.ts";
import { runAsync, sleep } from "../tests/e2e/cmd.ts";
import { DAEMON_V8_FLAGS } from "../src/release/v8_flags.ts";
import { openFds } from "./_proc_usage.ts";

/** One minute's reading of one daemon. */
export interface SoakSample {
  /** Seconds since the daemons started. */
  readonly t: number;
  readonly rssKb: number;
  readonly anonKb: number;
  readonly fds: number;
  readonly children: number;
  readonly zombies: number;
  /** RSS of the children by command name, kB (summed). */
  readonly childRssKb: Record<string, number>;
  /** Distinct child pids seen so far, by command name. */
  readonly childStarts: Record<string, number>;
  /** JS heap used after a forced GC, bytes (NaN when the inspector did not answer). */
  readonly heapAfterGc: number;
  readonly heapTotal: number;
  /** `/metrics` counters (bench/_inspect_heap.ts's COUNTERS). */
  readonly counters: Record<string, number>;
  /** Idle mode entries and exits logged so far. */
  readonly idleEnters: number;
  readonly idleLeaves: number;
}

function argValue(name: string): string | undefined {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1] : undefined;
}

const LOAD_ON_S = 60;
const LOAD_OFF_S = 60;
const INSPECT_PORT = 9229;
const METRICS_PORT = 9101;
const ROOT = new URL("../", import.meta.url).pathname.replace(/\/$/, "");

/** `/proc/PID/status` fields in kB. */
function statusKb(pid: number): { rssKb: number; anonKb: number } {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? NaN);
    return { rssKb: kb("VmRSS"), anonKb: kb("RssAnon") };
  } catch {
    return { rssKb: NaN, anonKb: NaN };
  }
}

/** The direct children of `pid` (every thread's), with command, state and RSS. */
function childrenOf(pid: number): { pid: number; comm: string; state: string; rssKb: number }[] {
  const pids = new Set<number>();
  try {
    for (const t of Deno.readDirSync(`/proc/${pid}/task`)) {
      const text = Deno.readTextFileSync(`/proc/${pid}/task/${t.name}/children`);
      for (const p of text.trim().split(/\s+/)) if (p !== "") pids.add(Number(p));
    }
  } catch {
    // exited
  }
  const out = [];
  for (const p of pids) {
    try {
      const stat = Deno.readTextFileSync(`/proc/${p}/stat`);
      const close = stat.lastIndexOf(")");
      const rest = stat.slice(close + 2).split(" ");
      out.push({
        pid: p,
        comm: stat.slice(stat.indexOf("(") + 1, close),
        state: rest[0],
        rssKb: Number(rest[21]) * 4,
      });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** One controller's testbed, daemon and the pids of its children seen so far. */
class Side {
  readonly seen = new Map<string, Set<number>>();
  readonly samples: SoakSample[] = [];
  child!: Deno.ChildProcess;
  constructor(
    readonly ctl: string,
    readonly tb: Testbed,
    readonly dir: string,
    readonly out: string,
  ) {}

  noteChildren(): void {
    for (const c of childrenOf(this.child.pid)) {
      let s = this.seen.get(c.comm);
      if (s === undefined) this.seen.set(c.comm, s = new Set());
      s.add(c.pid);
    }
  }
}

/** Daemon flags of a controller (besides the testbed's). */
function controllerFlags(side: string): string[] {
  // `capacity_snap` is a second `capacity` (its own testbed), e.g. the one given --snapshots.
  const ctl = side.split("_")[0];
  if (ctl === "lua") {
    return ["--rate-controller", "builtin:ewma", "--plugin-scripts", "builtin:delay_tuner"];
  }
  return ["--rate-controller", ctl];
}

async function startSide(ctl: string, letter: string, prefix: string, out: string): Promise<Side> {
  await Deno.mkdir("/tmp/sqm-autorate", { recursive: true });
  const dir = await Deno.makeTempDir({ dir: "/tmp/sqm-autorate", prefix: `soakreal-${ctl}-` });
  const shaper = ctl.startsWith("capacity") ? "tbf" : "htb";
  const tb = Testbed.create({
    shaper,
    ispDownKbit: 8000,
    ispUpKbit: 4000,
    ispBufferMs: 30,
    routerBufferMs: 20,
    routerDownKbit: 10000,
    routerUpKbit: 5000,
    namePrefix: `${prefix}${letter}-`,
    tempDir: dir,
  });
  await writeTestbedReflectors(dir);
  const side = new Side(ctl, tb, dir, out);
  const argv = daemonRunArgv([
    ...testbedDaemonFlags({ dir, upKbit: 5000, downKbit: 10000, shaper }),
    ...controllerFlags(ctl),
    "--tick-interval",
    "0.05",
    "--min-change-interval",
    "0.05",
    "--peer-reselection-time",
    "1",
    "--idle-delay",
    "10",
    "--metrics-listen",
    `127.0.0.1:${METRICS_PORT}`,
  ], { v8Flags: DAEMON_V8_FLAGS.join(",") });
  // --inspect goes before the script (deno's own flag).
  argv.splice(argv.indexOf("-P=daemon") + 1, 0, `--inspect=127.0.0.1:${INSPECT_PORT}`);
  side.child = tb.track(
    new Deno.Command("ip", {
      args: [
        "netns",
        "exec",
        tb.ns.router,
        "sh",
        "-c",
        'exec "$@" >"$0" 2>&1',
        `${out}${ctl}.log`,
        ...argv,
      ],
      stdin: "null",
      clearEnv: true,
      env: { PATH: Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin", NO_COLOR: "1" },
    }).spawn(),
  );
  return side;
}

/** Alternating load: both directions for LOAD_ON_S, then nothing for LOAD_OFF_S, until `end`. */
async function loadLoop(side: Side, endMs: number): Promise<void> {
  const { tb } = side;
  const servers = [5201, 5202].map((port) =>
    tb.track(
      new Deno.Command("ip", {
        args: ["netns", "exec", tb.ns.server, "iperf3", "-s", "-p", String(port)],
        stdout: "null",
        stderr: "null",
      }).spawn(),
    )
  );
  await sleep(1000);
  try {
    while (Date.now() + LOAD_ON_S * 1000 < endMs) {
      // The download from the server (-R) on 5201, the upload to it on 5202.
      const flow = (port: number, reverse: boolean) =>
        runAsync(
          tb.exec(tb.ns.client, [
            ...["iperf3", "-c", ADDR.server, "-p", String(port)],
            ...(reverse ? ["-R"] : []),
            ...["-t", String(LOAD_ON_S)],
          ]),
          { timeoutMs: (LOAD_ON_S + 30) * 1000 },
        );
      await Promise.all([flow(5201, true), flow(5202, false)]);
      await sleep(Math.min(LOAD_OFF_S * 1000, Math.max(0, endMs - Date.now())));
    }
  } finally {
    for (const s of servers) {
      try {
        s.kill("SIGKILL");
      } catch {
        // gone
      }
    }
  }
}

function countLines(path: string, needle: string): number {
  try {
    return Deno.readTextFileSync(path).split(needle).length - 1;
  } catch {
    return 0;
  }
}

async function sample(side: Side, t: number, snapshot: string | undefined): Promise<SoakSample> {
  const pid = side.child.pid;
  const kids = childrenOf(pid);
  const childRssKb: Record<string, number> = {};
  for (const c of kids) childRssKb[c.comm] = (childRssKb[c.comm] ?? 0) + c.rssKb;
  const r = await runAsync(
    side.tb.exec(side.tb.ns.router, [
      Deno.execPath(),
      "run",
      "--allow-net",
      "--allow-write",
      `${ROOT}/bench/_inspect_heap.ts`,
      "--inspect-port",
      String(INSPECT_PORT),
      "--metrics-port",
      String(METRICS_PORT),
      ...(snapshot === undefined ? [] : ["--snapshot", snapshot]),
    ]),
    { timeoutMs: 120_000 },
  );
  let insp: Record<string, unknown> = {};
  try {
    insp = JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "{}");
  } catch {
    console.log(`soak_real: ${side.ctl}: inspector reading failed: ${r.stderr.trim()}`);
  }
  const counters: Record<string, number> = {};
  for (const [k, v] of Object.entries(insp)) if (typeof v === "number") counters[k] = v;
  const log = `${side.out}${side.ctl}.log`;
  const childStarts: Record<string, number> = {};
  for (const [k, s] of side.seen) childStarts[k] = s.size;
  return {
    t,
    ...statusKb(pid),
    fds: openFds(pid),
    children: kids.length,
    zombies: kids.filter((k) => k.state === "Z").length,
    childRssKb,
    childStarts,
    heapAfterGc: typeof insp.heap_used_after_gc === "number" ? insp.heap_used_after_gc : NaN,
    heapTotal: typeof insp.heap_total_after_gc === "number" ? insp.heap_total_after_gc : NaN,
    counters,
    idleEnters: countLines(log, "entering idle mode"),
    idleLeaves: countLines(log, "leaving idle mode"),
  };
}

/**
 * Least-squares slope of y over x over the finite points (NaN with fewer than 3). With `groups`,
 * each group gets a level of its own (x and y centred within their group, the slope pooled): the
 * readings at one phase of a cycle are compared with each other only.
 */
export function slope(
  xs: readonly number[],
  ys: readonly number[],
  groups?: readonly number[],
): number {
  const pts = xs.map((x, i) => ({ x, y: ys[i], g: groups?.[i] ?? 0 })).filter((p) =>
    Number.isFinite(p.x) && Number.isFinite(p.y)
  );
  if (pts.length < 3) return NaN;
  const means = new Map<number, { x: number; y: number; n: number }>();
  for (const p of pts) {
    const m = means.get(p.g) ?? { x: 0, y: 0, n: 0 };
    m.x += p.x;
    m.y += p.y;
    m.n++;
    means.set(p.g, m);
  }
  let num = 0;
  let den = 0;
  for (const p of pts) {
    const m = means.get(p.g)!;
    const dx = p.x - m.x / m.n;
    num += dx * (p.y - m.y / m.n);
    den += dx * dx;
  }
  return den === 0 ? NaN : num / den;
}

/**
 * The readings' phase: the minute modulo `PHASE_MIN`, the common period of the load's cycle
 * (2 min) and of the 5-minute log summary, whose per-tick arrays (src/control/summary.ts) hold up
 * to ~0.3 MB at 20 ticks a second and are emptied at each line.
 */
const PHASE_MIN = 10;

function metric(name: string, value: number, unit: string, digits = 1): void {
  console.log(`metric ${name} ${Number.isFinite(value) ? value.toFixed(digits) : "NaN"} ${unit}`);
}

/** Prints the slopes of one controller's samples after `warmUpS`. */
export function analyse(ctl: string, all: readonly SoakSample[], warmUpS: number): void {
  const s = all.filter((x) => x.t >= warmUpS);
  if (s.length < 6) {
    console.log(`soak_real: ${ctl}: ${s.length} samples after the warm-up, too few`);
    return;
  }
  const mid = s[Math.floor(s.length / 2)].t;
  const halves = [s.filter((x) => x.t <= mid), s.filter((x) => x.t >= mid)];
  const hours = (x: SoakSample) => x.t / 3600;
  const dec = (x: SoakSample) => (x.counters.sqm_controller_decisions_total ?? NaN) / 1000;
  const phase = (x: SoakSample) => Math.round(x.t / 60) % PHASE_MIN;
  const series: [string, (x: SoakSample) => number, string, string, number][] = [
    ["heap", (x) => x.heapAfterGc / 1024, "kb", "kB", 1],
    // Collected and read in one turn of the daemon's thread (bench/_inspect_heap.ts).
    ["heap_sync", (x) => (x.counters.heap_used_sync_gc ?? NaN) / 1024, "kb", "kB", 1],
    ["anon_rss", (x) => x.anonKb, "kb", "kB", 0],
    ["rss", (x) => x.rssKb, "kb", "kB", 0],
    ["fds", (x) => x.fds, "fds", "fds", 2],
    ["children", (x) => x.children, "processes", "processes", 2],
    ["resources", (x) => x.counters.deno_resources ?? NaN, "resources", "resources", 2],
  ];
  for (const [name, f, token, unit, digits] of series) {
    // Per phase (the main figure), and without (`_raw`).
    const per = (xs: readonly SoakSample[], by: (x: SoakSample) => number, phased = true) =>
      slope(xs.map(by), xs.map(f), phased ? xs.map(phase) : undefined);
    const each: [string, number][] = [
      ["", per(s, hours)],
      ["_first_half", per(halves[0], hours)],
      ["_second_half", per(halves[1], hours)],
      ["_raw", per(s, hours, false)],
    ];
    for (const [part, v] of each) {
      metric(`soak_real_${ctl}_${name}${part}_slope_${token}_per_h`, v, `${unit}/h`, digits);
    }
    metric(
      `soak_real_${ctl}_${name}_slope_${token}_per_1000_decisions`,
      per(s, dec),
      unit,
      digits + 2,
    );
  }
  const first = s[0];
  const last = s.at(-1)!;
  const span = (last.t - first.t) / 3600;
  metric(`soak_real_${ctl}_span_h`, span, "h", 2);
  metric(`soak_real_${ctl}_heap_first_mb`, first.heapAfterGc / 1048576, "MB", 2);
  metric(`soak_real_${ctl}_heap_last_mb`, last.heapAfterGc / 1048576, "MB", 2);
  metric(`soak_real_${ctl}_anon_rss_last_mb`, last.anonKb / 1024, "MB", 1);
  metric(`soak_real_${ctl}_rss_max_mb`, Math.max(...all.map((x) => x.rssKb)) / 1024, "MB", 1);
  metric(`soak_real_${ctl}_fds_max`, Math.max(...all.map((x) => x.fds)), "fds", 0);
  metric(`soak_real_${ctl}_zombies_max`, Math.max(...all.map((x) => x.zombies)), "processes", 0);
  for (const comm of ["tc", "fping", "ip"]) {
    metric(
      `soak_real_${ctl}_${comm}_rss_max_kb`,
      Math.max(0, ...all.map((x) => x.childRssKb[comm] ?? 0)),
      "kB",
      0,
    );
    metric(`soak_real_${ctl}_${comm}_starts`, last.childStarts[comm] ?? 0, "processes", 0);
  }
  const c = last.counters;
  metric(`soak_real_${ctl}_decisions`, c.sqm_controller_decisions_total ?? NaN, "decisions", 0);
  metric(
    `soak_real_${ctl}_reselections`,
    c.sqm_reflector_reselections_total ?? NaN,
    "reselections",
    0,
  );
  metric(`soak_real_${ctl}_pinger_starts`, c.sqm_pinger_starts_total ?? NaN, "starts", 0);
  metric(`soak_real_${ctl}_idle_entries`, last.idleEnters, "entries", 0);
  metric(`soak_real_${ctl}_idle_exits`, last.idleLeaves, "exits", 0);
}

function readSamples(path: string): SoakSample[] {
  return Deno.readTextFileSync(path).split("\n").filter((l) => l !== "").map((l) => {
    const o = JSON.parse(l);
    for (const k of ["heapAfterGc", "heapTotal", "rssKb", "anonKb", "fds"]) o[k] ??= NaN;
    return o as SoakSample;
  });
}

if (import.meta.main) {
  const controllers = (argValue("--controllers") ?? "capacity,ewma,lua").split(",");
  const warmUpS = Number(argValue("--warm-up-min") ?? "15") * 60;
  const analysePrefix = argValue("--analyse");
  if (analysePrefix !== undefined) {
    for (const ctl of controllers) {
      try {
        analyse(ctl, readSamples(`${analysePrefix}${ctl}.jsonl`), warmUpS);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    }
    Deno.exit(0);
  }
  const minutes = Number(argValue("--minutes") ?? "80");
  const prefix = argValue("--ns-prefix") ?? "soakreal";
  const out = argValue("--out") ?? `/tmp/soak_real_${Deno.pid}_`;
  // Heap snapshots (at the end of the warm-up and in the last minute) only for the sides named:
  // writing one raises the daemon's RSS by ~150 MB for good, so those sides' RSS says nothing.
  const snapshots = (argValue("--snapshots") ?? "").split(",");
  const letters = "abcdefgh";
  const sides: Side[] = [];
  const cleanup = () => {
    for (const s of sides) {
      try {
        s.child.kill("SIGTERM");
      } catch {
        // gone
      }
    }
  };
  Deno.addSignalListener("SIGINT", () => {
    cleanup();
    for (const s of sides) s.tb.destroy();
    Deno.exit(130);
  });
  try {
    for (const [i, ctl] of controllers.entries()) {
      sides.push(await startSide(ctl, letters[i], prefix, out));
    }
    const t0 = Date.now();
    const endMs = t0 + minutes * 60_000;
    const loads = sides.map((s) => loadLoop(s, endMs));
    const noter = setInterval(() => {
      for (const s of sides) s.noteChildren();
    }, 1000);
    let minute = 0;
    while (Date.now() < endMs) {
      minute++;
      await sleep(Math.max(0, t0 + minute * 60_000 - Date.now()));
      for (const s of sides) {
        const t = (Date.now() - t0) / 1000;
        const snap = snapshots.includes(s.ctl) &&
            (minute === Math.round(warmUpS / 60) || t0 + (minute + 1) * 60_000 > endMs)
          ? `${out}${s.ctl}_${minute}min.heapsnapshot`
          : undefined;
        const x = await sample(s, t, snap);
        s.samples.push(x);
        await Deno.writeTextFile(`${out}${s.ctl}.jsonl`, JSON.stringify(x) + "\n", {
          append: true,
        });
        console.log(
          `soak_real: ${s.ctl} t=${t.toFixed(0)} s heap ${
            (x.heapAfterGc / 1048576).toFixed(3)
          } MB` +
            ` anon ${(x.anonKb / 1024).toFixed(1)} MB rss ${(x.rssKb / 1024).toFixed(1)} MB fds ` +
            `${x.fds} children ${x.children} decisions ${x.counters.sqm_controller_decisions_total}`,
        );
      }
    }
    clearInterval(noter);
    await Promise.all(loads);
    for (const s of sides) analyse(s.ctl, s.samples, warmUpS);
  } finally {
    cleanup();
    for (const s of sides) {
      await Promise.race([s.child.status, sleep(8000)]);
      try {
        s.child.kill("SIGKILL");
      } catch {
        // gone
      }
      s.tb.destroy();
      await Deno.remove(s.dir, { recursive: true }).catch(() => {});
    }
  }
}
