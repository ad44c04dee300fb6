/**
 * One end-to-end scenario on a {@linkcode Testbed}: set the router shaper (very high rate,
 * a fixed rate, or the real daemon), put a multi-stream iperf3 download (two-way: and as many
 * upload streams) through the testbed while the ISP capacity steps down and up again, and
 * measure RTT with an independent fping from the client namespace.
 */
import { type CmdResult, runAsync, sleep } from "./cmd.ts";
import {
  forEachLine,
  type FpingSample,
  parseFpingLine,
  parseIperf3Json,
  parseStatsCsv,
  type RttSummary,
  type StatsRow,
  summariseRtt,
} from "./probes.ts";
import { ADDR, IFACE, type Testbed } from "./testbed.ts";
import { LOAD_SETTLE_MS, TRANSIENT_MS } from "./setup.ts";
import { percentile } from "../../src/util/stats.ts";

/** Which shaper drives the router in a scenario. */
export type ScenarioKind = "unshaped" | "static" | "daemon";

/** Capacity schedule and load shape shared by all scenarios. */
export interface Schedule {
  /** Load duration, s. */
  readonly loadS: number;
  /** ISP download step down, s after load start. */
  readonly stepDownAtS: number;
  /** ISP download step back up, s after load start. */
  readonly stepUpAtS: number;
  /** High ISP download capacity, kbit/s. */
  readonly highDownKbit: number;
  /** Low ISP download capacity, kbit/s. */
  readonly lowDownKbit: number;
  /** ISP upload capacity outside the steps, kbit/s. */
  readonly upKbit: number;
  /** ISP upload capacity between the steps, kbit/s (`upKbit` for a constant upload). */
  readonly lowUpKbit: number;
  /** Parallel iperf3 streams. */
  readonly streams: number;
  /**
   * Two-way load: as many saturating upload streams as download ones, same timing (a second
   * `iperf3` without `-R`, its own server on {@linkcode UPLOAD_PORT}).
   */
  readonly twoWay: boolean;
  /** Probe period of the independent fping, ms. */
  readonly probePeriodMs: number;
}

/** How to start the daemon (only for the `daemon` scenario). */
export interface DaemonLaunch {
  /** Builds the full argument vector; `dir` is the scenario's temp directory. */
  readonly argv: (dir: string) => string[];
  /** Path of the statistics CSV inside `dir`. */
  readonly statsFile: (dir: string) => string;
  /** Longest wait for the first statistics row, s. */
  readonly warmupTimeoutS: number;
}

/** Options of {@linkcode runScenario}. */
export interface ScenarioOptions {
  /** Capacity schedule and load. */
  readonly schedule: Schedule;
  /** Static shaper rate as a fraction of the high capacity (static scenario). */
  readonly staticFraction: number;
  /** Daemon launch (daemon scenario). */
  readonly daemon?: DaemonLaunch;
  /** Name in the result table (default: the kind). */
  readonly label?: string;
  /** Temp directory for files of this scenario. */
  readonly dir: string;
}

/** What one scenario measured. */
export interface ScenarioResult {
  /** Scenario kind. */
  readonly kind: ScenarioKind;
  /** Name in the result table (e.g. `daemon ewma`). */
  readonly label: string;
  /** RTT before the load started. */
  readonly idle: RttSummary;
  /** RTT under load (from 1 s after load start to load end). */
  readonly loaded: RttSummary;
  /** iperf3 receiver goodput, bit/s (`NaN` when iperf3 failed, see `iperfError`). */
  readonly throughputBps: number;
  /** Why iperf3 gave no result (empty when it did). */
  readonly iperfError: string;
  /** Bytes received by the client interface during the load window, bit/s (cross-check). */
  readonly counterBps: number;
  /** Time-weighted mean ISP download capacity over the load, bit/s. */
  readonly meanCapacityBps: number;
  /** The upload flows' figures (two-way load only). */
  readonly upload?: UploadResult;
  /** Wall-clock ms of load start, step down, step up, load end. */
  readonly times: { loadStart: number; stepDown: number; stepUp: number; loadEnd: number };
  /** ISP download queue delay (backlog ÷ capacity) under load, ms, sampled every 200 ms. */
  readonly ispQueueMs: { p50: number; p95: number };
  /**
   * ISP upload queue delay (backlog ÷ capacity) under load, ms, and its median between the steps
   * (from 1 s after the step down): two-way load only.
   */
  readonly ispUpQueueMs?: { p50: number; p95: number; betweenStepsP50: number };
  /** Router download shaper backlog p95 under load, bytes. */
  readonly routerQueueP95Bytes: number;
  /** RTT under load excluding the 3 s after each capacity change (steady state). */
  readonly steady: RttSummary;
  /** Raw probe samples. */
  readonly probes: FpingSample[];
  /** Raw queue samples. */
  readonly queues: QueueSample[];
  /** Seconds from daemon start to its first statistics row (daemon scenario, else 0). */
  readonly warmupS: number;
  /** Daemon statistics rows (daemon scenario). */
  readonly stats: StatsRow[];
  /** Start of the daemon's output (daemon scenario). */
  readonly daemonLogHead: string;
  /** Tail of the daemon's output (daemon scenario). */
  readonly daemonLogTail: string;
}

/** What the upload flows of a two-way load measured. */
export interface UploadResult {
  /** iperf3 receiver goodput, bit/s (`NaN` when iperf3 failed, see `iperfError`). */
  readonly throughputBps: number;
  /** Why iperf3 gave no result (empty when it did). */
  readonly iperfError: string;
  /** Bytes sent by the client interface during the load window, bit/s (cross-check). */
  readonly counterBps: number;
  /** Time-weighted mean ISP upload capacity over the load, bit/s. */
  readonly capacityBps: number;
}

/** Port of the download flows' iperf3 server (iperf3's default). */
export const DOWNLOAD_PORT = 5201;
/** Port of the upload flows' iperf3 server. */
export const UPLOAD_PORT = 5202;

/** The fping probe running in the client namespace. */
class RttProbe {
  readonly samples: FpingSample[] = [];
  readonly #child: Deno.ChildProcess;
  readonly #reader: Promise<void>;

  constructor(tb: Testbed, periodMs: number) {
    const argv = tb.exec(tb.ns.client, [
      "fping",
      "-D",
      "-l",
      "-p",
      String(periodMs),
      "-t",
      "1500",
      ADDR.probe,
    ]);
    this.#child = tb.track(
      new Deno.Command(argv[0], {
        args: argv.slice(1),
        stdin: "null",
        stdout: "piped",
        stderr: "null",
      }).spawn(),
    );
    this.#reader = forEachLine(this.#child.stdout, (line) => {
      const s = parseFpingLine(line);
      if (s) this.samples.push(s);
    });
  }

  async stop(): Promise<void> {
    try {
      this.#child.kill("SIGTERM");
    } catch {
      // already exited
    }
    await this.#child.status;
    await this.#reader;
  }
}

/**
 * One queue-length sample: backlog in bytes of the ISP download and router download queues (and,
 * under a two-way load, of the upload ones).
 */
export interface QueueSample {
  /** Wall-clock ms. */
  readonly tMs: number;
  /** ISP download (bottleneck) backlog, bytes. */
  readonly ispBytes: number;
  /** Router download shaper backlog, bytes. */
  readonly routerBytes: number;
  /** ISP upload backlog, bytes (two-way load only). */
  readonly ispUpBytes?: number;
  /** Router upload shaper backlog, bytes (two-way load only). */
  readonly routerUpBytes?: number;
}

/**
 * The longest stretch (ms) during which the router's download backlog stayed non-zero and exactly
 * unchanged: a stuck shaper (e.g. a TBF whose head packet no longer fits its bucket).
 */
export function longestStuckBacklogMs(samples: readonly QueueSample[]): {
  ms: number;
  bytes: number;
  fromMs: number;
} {
  let best = { ms: 0, bytes: 0, fromMs: 0 };
  let start = 0;
  for (let i = 1; i <= samples.length; i++) {
    const same = i < samples.length && samples[i].routerBytes > 0 &&
      samples[i].routerBytes === samples[start].routerBytes;
    if (same) continue;
    const ms = samples[i - 1].tMs - samples[start].tMs;
    if (samples[start].routerBytes > 0 && ms > best.ms) {
      best = { ms, bytes: samples[start].routerBytes, fromMs: samples[start].tMs };
    }
    start = i;
  }
  return best;
}

/**
 * Samples both download queues every `periodMs` until stopped (diagnostics); with `upload` the
 * upload ones too (two-way load).
 */
class QueueSampler {
  readonly samples: QueueSample[] = [];
  #stopped = false;
  readonly #loop: Promise<void>;

  constructor(tb: Testbed, o: { periodMs: number; upload: boolean }) {
    const { periodMs } = o;
    const backlog = async (ns: string, dev: string): Promise<number> => {
      const r = await runAsync(tb.exec(ns, ["tc", "-s", "-j", "qdisc", "show", "dev", dev]), {
        timeoutMs: 2000,
      });
      if (r.code !== 0) return NaN;
      const rows = JSON.parse(r.stdout) as { root?: boolean; backlog?: number }[];
      return rows.find((q) => q.root)?.backlog ?? NaN;
    };
    this.#loop = (async () => {
      // Bounded: at most 10 minutes of samples.
      for (let i = 0; i < (600_000 / periodMs) && !this.#stopped; i++) {
        const tMs = Date.now();
        const [ispBytes, routerBytes] = await Promise.all([
          backlog(tb.ns.isp, IFACE.ispCpe),
          backlog(tb.ns.router, IFACE.routerLan),
        ]);
        if (!o.upload) {
          this.samples.push({ tMs, ispBytes, routerBytes });
        } else {
          const [ispUpBytes, routerUpBytes] = await Promise.all([
            backlog(tb.ns.isp, IFACE.ispSrv),
            backlog(tb.ns.router, IFACE.routerWan),
          ]);
          this.samples.push({ tMs, ispBytes, routerBytes, ispUpBytes, routerUpBytes });
        }
        await sleep(Math.max(0, tMs + periodMs - Date.now()));
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
  }
}

/** The daemon process with its output captured to a log file. */
class DaemonProcess {
  readonly #child: Deno.ChildProcess;
  readonly #logPath: string;
  readonly #pump: Promise<void>;
  exited = false;

  constructor(tb: Testbed, argv: string[], logPath: string) {
    this.#logPath = logPath;
    this.#child = tb.track(
      new Deno.Command(argv[0], {
        args: argv.slice(1),
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        // The caller's SQMA_* variables must not change the daemon's settings.
        clearEnv: true,
        env: {
          ...Object.fromEntries(
            Object.entries(Deno.env.toObject()).filter(([k]) => !k.startsWith("SQMA_")),
          ),
          NO_COLOR: "1",
        },
      }).spawn(),
    );
    this.#child.status.then(() => (this.exited = true));
    const log = Deno.openSync(logPath, { write: true, create: true, truncate: true });
    const enc = new TextEncoder();
    const write = (prefix: string) => (line: string) =>
      log.writeSync(enc.encode(prefix + line + "\n"));
    this.#pump = Promise.all([
      forEachLine(this.#child.stdout, write("")),
      forEachLine(this.#child.stderr, write("")),
    ]).then(() => log.close());
  }

  get status(): Promise<Deno.CommandStatus> {
    return this.#child.status;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; returns the exit status. */
  async stop(graceMs: number): Promise<Deno.CommandStatus> {
    if (!this.exited) {
      try {
        this.#child.kill("SIGTERM");
      } catch {
        // already exited
      }
    }
    const killer = setTimeout(() => {
      try {
        this.#child.kill("SIGKILL");
      } catch {
        // already exited
      }
    }, graceMs);
    const status = await this.#child.status;
    clearTimeout(killer);
    await this.#pump;
    return status;
  }

  logHead(lines: number): string {
    try {
      return Deno.readTextFileSync(this.#logPath).split("\n").slice(0, lines).join("\n");
    } catch {
      return "";
    }
  }

  logTail(lines: number): string {
    try {
      return Deno.readTextFileSync(this.#logPath).trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
      return "";
    }
  }
}

/** Starts a one-test `iperf3 -s` in the server namespace (tracked by the testbed). */
export function startIperfServer(tb: Testbed, port = DOWNLOAD_PORT): Deno.ChildProcess {
  // One test per server (-1): a client killed after a hang cannot leave the next scenario with a
  // busy server.
  const argv = tb.exec(tb.ns.server, ["iperf3", "-s", "-1", "-B", ADDR.server, "-p", `${port}`]);
  return tb.track(
    new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn(),
  );
}

/** Waits (bounded) until `iperf3 -s` accepts connections. */
export async function waitIperfServer(tb: Testbed, port = DOWNLOAD_PORT): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const r = await runAsync(
      tb.exec(tb.ns.server, ["ss", "-Hltn", `sport = :${port}`]),
      { timeoutMs: 3000 },
    );
    if (r.code === 0 && r.stdout.includes(`${port}`)) return;
    await sleep(100);
  }
  throw new Error(`iperf3 -s did not start listening on port ${port} within 5 s`);
}

/** Seconds iperf3 may take beyond its test time (connect + end-of-test exchange). */
const IPERF_GRACE_S = 8;

/** Received and sent bytes of the client's LAN interface (`ip -j -s link`). */
async function clientBytes(tb: Testbed): Promise<{ rx: number; tx: number }> {
  const r = await runAsync(
    tb.exec(tb.ns.client, ["ip", "-j", "-s", "link", "show", "dev", IFACE.clientLan]),
    { timeoutMs: 3000 },
  );
  if (r.code !== 0) throw new Error(`ip -s link in the client namespace failed: ${r.stderr}`);
  const rows = JSON.parse(r.stdout) as {
    stats64?: { rx?: { bytes?: number }; tx?: { bytes?: number } };
  }[];
  const rx = rows[0]?.stats64?.rx?.bytes;
  const tx = rows[0]?.stats64?.tx?.bytes;
  if (typeof rx !== "number" || typeof tx !== "number") {
    throw new Error("no rx/tx byte counters for the client interface");
  }
  return { rx, tx };
}

/**
 * `iperf3 -J` with `streams` streams in the client namespace for `seconds`: download (`-R`) or
 * upload, against the server on `port`.
 */
export function runIperfClient(
  tb: Testbed,
  o: { reverse: boolean; port: number; streams: number; seconds: number },
): Promise<CmdResult> {
  return runAsync(
    tb.exec(tb.ns.client, [
      "iperf3",
      "-c",
      ADDR.server,
      "-p",
      `${o.port}`,
      ...(o.reverse ? ["-R"] : []),
      "-P",
      String(o.streams),
      "-t",
      String(o.seconds),
      "-J",
      "--connect-timeout",
      "3000",
    ]),
    { timeoutMs: (o.seconds + IPERF_GRACE_S) * 1000 },
  );
}

/**
 * iperf3's receiver goodput from the exit and JSON output of a `runIperfClient` of `seconds`, or
 * why there is none.
 */
export function iperfOutcome(ip: CmdResult, seconds: number): { bps: number; error: string } {
  try {
    if (ip.code !== 0) {
      throw new Error(
        `iperf3 client failed (exit ${ip.code}${
          ip.code === 137
            ? ", killed after " +
              `${seconds + IPERF_GRACE_S} s`
            : ""
        }): ${ip.stderr.trim()} ${ip.stdout.slice(0, 300)}`,
      );
    }
    return { bps: parseIperf3Json(ip.stdout).receivedBps, error: "" };
  } catch (e) {
    return { bps: NaN, error: (e as Error).message };
  }
}

/**
 * An ISP queue's delay (backlog ÷ its capacity at the sample's time: `lowKbit` between the steps,
 * else `highKbit`), ms: p50 and p95 of the samples `bytes` picks, and the median of those from 1 s
 * after the step down to the step up (where the `upload-step` schedule's upload queue should be
 * full: its buffer's delay, docs/e2e.md).
 */
export function ispQueueDelays(
  samples: readonly QueueSample[],
  o: {
    bytes: (q: QueueSample) => number | undefined;
    stepDown: number;
    stepUp: number;
    highKbit: number;
    lowKbit: number;
  },
): { p50: number; p95: number; betweenStepsP50: number } {
  const between = (tMs: number) => tMs >= o.stepDown && tMs < o.stepUp;
  const delays = samples.filter((q) => Number.isFinite(o.bytes(q))).map((q) => ({
    tMs: q.tMs,
    ms: ((o.bytes(q) ?? NaN) * 8 * 1000) / ((between(q.tMs) ? o.lowKbit : o.highKbit) * 1000),
  }));
  return {
    p50: percentile(delays.map((d) => d.ms), 50),
    p95: percentile(delays.map((d) => d.ms), 95),
    betweenStepsP50: percentile(
      delays.filter((d) => d.tMs >= o.stepDown + 1000 && d.tMs < o.stepUp).map((d) => d.ms),
      50,
    ),
  };
}

/** Sleeps until wall-clock `tMs` (no-op if already past). */
function sleepUntil(tMs: number): Promise<void> {
  return sleep(Math.max(0, tMs - Date.now()));
}

/** Router shaper rates for the non-daemon scenarios, kbit/s. */
const UNSHAPED_KBIT = 1_000_000;

/** Runs one scenario; throws with a message naming the step that failed. */
export async function runScenario(
  tb: Testbed,
  kind: ScenarioKind,
  options: ScenarioOptions,
): Promise<ScenarioResult> {
  const { schedule: sch } = options;
  tb.setIspRate("down", sch.highDownKbit);
  tb.setIspRate("up", sch.upKbit);
  if (kind === "unshaped") {
    tb.setRouterRate("down", UNSHAPED_KBIT);
    tb.setRouterRate("up", UNSHAPED_KBIT);
  } else {
    // Static: fixed at a fraction of the high capacity. Daemon: start from the same values;
    // the daemon sets its own rates at startup.
    tb.setRouterRate("down", Math.round(sch.highDownKbit * options.staticFraction));
    tb.setRouterRate("up", Math.round(sch.upKbit * options.staticFraction));
  }
  await sleep(500); // let any queue from the previous scenario drain

  let daemon: DaemonProcess | undefined;
  let warmupS = 0;
  let stats: StatsRow[] = [];
  const readStats = (): StatsRow[] => {
    if (!options.daemon) return [];
    try {
      return parseStatsCsv(Deno.readTextFileSync(options.daemon.statsFile(options.dir)));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return [];
      throw e;
    }
  };
  const server = startIperfServer(tb);
  const upServer = sch.twoWay ? startIperfServer(tb, UPLOAD_PORT) : undefined;
  const probe = new RttProbe(tb, sch.probePeriodMs);
  let sampler: QueueSampler | undefined;
  try {
    if (kind === "daemon") {
      if (!options.daemon) throw new Error("daemon scenario without a daemon launch");
      daemon = new DaemonProcess(
        tb,
        options.daemon.argv(options.dir),
        `${options.dir}/daemon.log`,
      );
      // Bounded wait for the controller's first statistics row.
      const started = Date.now();
      const deadline = Date.now() + options.daemon.warmupTimeoutS * 1000;
      while (readStats().length === 0) {
        if (daemon.exited) {
          throw new Error(`daemon exited during warm-up:\n${daemon.logTail(20)}`);
        }
        if (Date.now() > deadline) {
          throw new Error(
            `daemon wrote no statistics row within ${options.daemon.warmupTimeoutS} s:\n` +
              daemon.logTail(20),
          );
        }
        await sleep(250);
      }
      warmupS = (Date.now() - started) / 1000;
      await sleep(1000);
    } else {
      await sleep(1500); // idle RTT samples
    }

    await waitIperfServer(tb);
    if (upServer) await waitIperfServer(tb, UPLOAD_PORT);
    const idleFrom = Date.now() - 1000;
    sampler = new QueueSampler(tb, { periodMs: 200, upload: sch.twoWay });
    const bytes0 = await clientBytes(tb);
    const loadStart = Date.now();
    const flows = { streams: sch.streams, seconds: sch.loadS };
    const iperf = runIperfClient(tb, { reverse: true, port: DOWNLOAD_PORT, ...flows });
    const iperfUp = upServer
      ? runIperfClient(tb, { reverse: false, port: UPLOAD_PORT, ...flows })
      : undefined;
    await sleepUntil(loadStart + sch.stepDownAtS * 1000);
    if (sch.lowDownKbit !== sch.highDownKbit) tb.setIspRate("down", sch.lowDownKbit);
    if (sch.lowUpKbit !== sch.upKbit) tb.setIspRate("up", sch.lowUpKbit);
    const stepDown = Date.now();
    await sleepUntil(loadStart + sch.stepUpAtS * 1000);
    if (sch.lowDownKbit !== sch.highDownKbit) tb.setIspRate("down", sch.highDownKbit);
    if (sch.lowUpKbit !== sch.upKbit) tb.setIspRate("up", sch.upKbit);
    const stepUp = Date.now();
    await sleepUntil(loadStart + sch.loadS * 1000);
    const loadEnd = Date.now();
    const bytes1 = await clientBytes(tb);
    await sampler.stop();
    // Diagnostics for iperf3's end-of-test hang: its sockets as seen 3 s after the test time.
    let iperfDone = false;
    const iperfWatch = iperf.then(() => (iperfDone = true));
    await Promise.race([iperfWatch, sleep(3000)]);
    let hangInfo = "";
    if (!iperfDone) {
      for (const ns of [tb.ns.client, tb.ns.server]) {
        const ss = await runAsync(
          tb.exec(ns, [
            "ss",
            "-tnio",
            `( sport = :${DOWNLOAD_PORT} or dport = :${DOWNLOAD_PORT} )`,
          ]),
        );
        hangInfo += `\n[ss -tnio in ${ns}]\n${ss.stdout.trim().slice(0, 1500)}`;
      }
      for (
        const [ns, dev] of [[tb.ns.router, IFACE.routerLan], [tb.ns.router, IFACE.routerWan], [
          tb.ns.isp,
          IFACE.ispCpe,
        ]]
      ) {
        const q = await runAsync(tb.exec(ns, ["tc", "-s", "qdisc", "show", "dev", dev]));
        hangInfo += `\n[tc -s qdisc ${dev}]\n${q.stdout.trim()}`;
      }
    }
    const down = iperfOutcome(await iperf, sch.loadS);
    const iperfBps = down.bps;
    const iperfError = down.error === "" ? "" : down.error + hangInfo;
    const up = iperfUp ? iperfOutcome(await iperfUp, sch.loadS) : undefined;
    if (daemon?.exited) throw new Error(`daemon died during the load:\n${daemon.logTail(20)}`);
    await probe.stop();

    let daemonLogTail = "";
    let daemonLogHead = "";
    if (daemon) {
      await daemon.stop(5000);
      stats = readStats();
      daemonLogTail = daemon.logTail(6);
      daemonLogHead = daemon.logHead(12);
    }
    const qs = sampler.samples.filter((q) => q.tMs >= loadStart + 1000);
    const ispDown = ispQueueDelays(qs, {
      bytes: (q) => q.ispBytes,
      stepDown,
      stepUp,
      highKbit: sch.highDownKbit,
      lowKbit: sch.lowDownKbit,
    });
    const total = (loadEnd - loadStart) / 1000;
    const lowS = (stepUp - stepDown) / 1000;
    const meanBps = (hiKbit: number, loKbit: number) =>
      (hiKbit * 1000 * (total - lowS) + loKbit * 1000 * lowS) / total;
    return {
      kind,
      label: options.label ?? kind,
      idle: summariseRtt(probe.samples, idleFrom, loadStart),
      loaded: summariseRtt(probe.samples, loadStart + LOAD_SETTLE_MS, loadEnd),
      steady: summariseRtt(
        probe.samples.filter((p) =>
          !(p.tsMs >= stepDown && p.tsMs < stepDown + TRANSIENT_MS) &&
          !(p.tsMs >= stepUp && p.tsMs < stepUp + TRANSIENT_MS)
        ),
        loadStart + LOAD_SETTLE_MS,
        loadEnd,
      ),
      probes: probe.samples,
      throughputBps: iperfBps,
      iperfError,
      counterBps: ((bytes1.rx - bytes0.rx) * 8 * 1000) / (loadEnd - loadStart),
      meanCapacityBps: meanBps(sch.highDownKbit, sch.lowDownKbit),
      upload: up && {
        throughputBps: up.bps,
        iperfError: up.error,
        counterBps: ((bytes1.tx - bytes0.tx) * 8 * 1000) / (loadEnd - loadStart),
        capacityBps: meanBps(sch.upKbit, sch.lowUpKbit),
      },
      times: { loadStart, stepDown, stepUp, loadEnd },
      warmupS,
      ispQueueMs: { p50: ispDown.p50, p95: ispDown.p95 },
      routerQueueP95Bytes: percentile(qs.map((q) => q.routerBytes), 95),
      ispUpQueueMs: sch.twoWay
        ? ispQueueDelays(qs, {
          bytes: (q) => q.ispUpBytes,
          stepDown,
          stepUp,
          highKbit: sch.upKbit,
          lowKbit: sch.lowUpKbit,
        })
        : undefined,
      queues: sampler.samples,
      stats,
      daemonLogTail,
      daemonLogHead,
    };
  } finally {
    for (const s of upServer ? [server, upServer] : [server]) {
      try {
        s.kill("SIGKILL");
      } catch {
        // already exited after its one test
      }
      await s.status;
    }
    await sampler?.stop();
    await probe.stop();
    if (daemon && !daemon.exited) await daemon.stop(3000);
  }
}
