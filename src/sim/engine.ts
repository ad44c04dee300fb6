/**
 * The simulation loop in virtual time: capacity trace → link (shaper + ISP bottleneck) with
 * load sources → synthetic reflectors → the control pipeline under test, whose shaper rate
 * feeds back into the link.
 */
import { isDue, seededRandom, VirtualClock } from "../util/clock.ts";
import type { PingReply, ProbePlan } from "../measure/types.ts";
import type { Settings } from "../config/types.ts";
import { capacityAt, type CapacityTrace, drainS } from "./trace.ts";
import {
  FIFO_SHAPER_BURST_BYTES,
  FIFO_SHAPER_LATENCY_S,
  LinkDirection,
  type ShaperQueue,
  type StepResult,
} from "./link.ts";
import type { ShaperQueues } from "../control/ratecontroller_port.ts";
import { constantBytes, type LoadPlan, ScheduleCursor } from "./load.ts";
import { type CongestionControl, TcpSource } from "./tcp.ts";
import { makeReflectors, ReflectorField } from "./reflectors.ts";
import { DirectionRecorder, type DirectionSeries, type DirectionSummary } from "./metrics.ts";
import { simPingerKind } from "./pinger_kind.ts";
import { assignFaults, type ReflectorFault } from "./reflector_faults.ts";
import { CutAudit, type CutCount } from "./cut_audit.ts";
import { type CounterRead, counterReadDelayS } from "./counter_read.ts";
import { ReadBurstChain } from "./read_bursts.ts";

/** Simulation step, seconds. */
export const SIM_DT_S = 0.01;

/** What a scenario's shaper does. */
export type ScenarioKind = "controller" | "none" | "static" | "oracle";

/** Byte counters of the shaped interfaces, as `ip -s link` would report them. */
export interface SimCounters {
  /** Bytes that crossed the download shaper. */
  dlBytes(): number;
  /** Bytes that crossed the upload shaper. */
  ulBytes(): number;
  /**
   * Starts one read of both counters with `counterRead` (absent: exact reads): draws when the
   * reader samples them (`sampleS` after the tick; `dlBytes`/`ulBytes` then count to that
   * moment) and when its answer is back (`doneS`, a second delay as long on average later;
   * counter_read.ts).
   */
  beginRead?(): { sampleS: number; doneS: number };
  /**
   * With reads inside the read (`:read`, a `remote` router over ssh): the round trip of a tick's
   * rate changes to the router's shaper (both directions written together), s, two delays drawn
   * alike (its own random stream, so the reads' draws stay as without it). The daemon's tick
   * waits for it (docs/controllers.md, "v87"; docs/remote.md, "A slow management link").
   */
  roundTripS?(): number;
}

/** What the engine gives a control pipeline to build itself on. */
export interface SimHooks {
  /** Effective settings (base rates filled in). */
  settings: Settings;
  /** The virtual clock (monotonic seconds = simulated time). */
  clock: VirtualClock;
  /** Seeded randomness for the controller (separate stream from the link's). */
  random: () => number;
  /** All reflector addresses (the pool). */
  pool: readonly string[];
  /** Byte counters. */
  counters: SimCounters;
  /**
   * Sets the download shaper rate, kbit/s: at once, or from the simulated time `atS` on (a remote
   * router's shaper, reached over ssh; times given in increasing order).
   */
  setDlRate(kbit: number, atS?: number): void;
  /** Sets the upload shaper rate, kbit/s, as `setDlRate`. */
  setUlRate(kbit: number, atS?: number): void;
  /** What the daemon's start-up check would learn of the shapers' queues. */
  shaperQueues: ShaperQueues;
}

/** A control pipeline driven by the engine (the real daemon pieces behind an adapter). */
export interface SimPipeline {
  /** Display name (controller, plugins). */
  readonly name: string;
  /** Reflectors to probe right now. */
  peers(): readonly string[];
  /** How they are probed (default each every tick: `ReflectorField`'s interval). */
  probePlan?(): ProbePlan | undefined;
  /** Feeds one ping reply (at its receive time) to the baseliner. */
  onReply(reply: PingReply): void;
  /** Advances timers (selector) to the clock's time; called every step. Optional. */
  advance?(): void | Promise<void>;
  /** Decision period, s (default `min_change_interval`). */
  readonly tickIntervalS?: number;
  /**
   * The wait after the tick just run, s (default `tickIntervalS`): the daemon's loop waits longer
   * in idle mode (`ControlLoop.nextIntervalS`), and its driver asks after each tick.
   */
  nextTickS?(): number;
  /** Runs one control tick; the engine calls it every `tickIntervalS` (or `nextTickS()`). */
  tick(): void | Promise<void>;
  /**
   * When the tick just run ended, s (its counter read and rate changes over a remote link,
   * `SimCounters.roundTripS`); the next tick is not run before, as the daemon's driver runs it at
   * once after an overrun (docs/controllers.md, "v87"). Absent: ticks take no time.
   */
  tickEndS?(): number | undefined;
  /** Reselection requests so far (for the summary). */
  reselects?(): number;
  /** Times the pinger was switched to another set of reflectors so far (for the summary). */
  pingerSwitches?(): number;
  /** Releases resources. */
  close?(): void | Promise<void>;
}

/** Options of one run. */
export interface RunOptions {
  /** Scenario. */
  scenario: ScenarioKind;
  /** Settings (base rates, thresholds, intervals). */
  settings: Settings;
  /** Capacity trace. */
  trace: CapacityTrace;
  /** Load schedules. */
  load: LoadPlan;
  /** Simulated seconds. */
  durationS: number;
  /** Seed for every random choice of the run. */
  seed: number;
  /** Builds the pipeline for the `controller` scenario. */
  pipeline?: (hooks: SimHooks) => SimPipeline | Promise<SimPipeline>;
  /** Number of synthetic reflectors (default 10). */
  reflectorCount?: number;
  /** Highest per-reflector loss probability (default 0.01). */
  maxLoss?: number;
  /**
   * Scale of the reflectors' jitter (default 1: a mean of 0.2–1.5 ms per direction, internet
   * reflectors; the e2e testbed's, in namespaces on one machine, show a few hundredths of that).
   */
  reflectorJitter?: number;
  /**
   * Faulty reflectors (`late`, `jitter`, `dies`, `route`), given to the first reflectors of the
   * pool (default none; reflector_faults.ts, docs/simulator.md "Faulty reflectors").
   */
  reflectorFaults?: readonly ReflectorFault[];
  /** ISP buffer as milliseconds at nominal capacity (default 250). */
  bufferMs?: number;
  /** The ISP buffer is `bufferMs` at the current capacity instead (a tbf bottleneck). */
  bufferScales?: boolean;
  /**
   * The download shaper sits on the router's LAN egress (as in the e2e testbed), so the
   * daemon's own probe replies, delivered to the router, skip its queue (default: they pass it,
   * as with ingress shaping on an IFB).
   */
  downShaperOnLan?: boolean;
  /**
   * A tbf/htb shaper has an fq_codel leaf (sqm-scripts' usual setup): it queues like CAKE (flow
   * isolation, CoDel), and the daemon learns so from `tc` (default: a plain FIFO).
   */
  shaperFq?: boolean;
  /** TCP flows per direction of a bulk load (default 4). */
  flows?: number;
  /** Round trip of the bulk traffic without queueing, ms (default 30: a server beyond the ISP). */
  bulkRttMs?: number;
  /** Congestion control of the bulk flows (default `cubic`). */
  cc?: CongestionControl;
  /**
   * The bulk flows learn of a loss one round trip after it, as real senders do (tcp.ts; default
   * true; false: in the step of the loss, the model before 2026-12-05).
   */
  lossAfterRtt?: boolean;
  /**
   * The ACKs of each direction's bulk flows wait in the opposite direction's queues (the delay a
   * sparse packet entering them sees), so their RTT and ACK clock include it. Default true (since
   * 2026-12-05, docs/controllers.md "An ISP upload queue that fills"); false: ACKs return one base
   * RTT after delivery, the model before (docs/simulator.md, "Load").
   */
  ackPath?: boolean;
  /**
   * With the `tbf` shaper, model its token bucket: the daemon's burst, refilled by every rate
   * change (link.ts, `tbfBucket`; docs/simulator.md, "Link, per direction"). Default true;
   * false: the shaper serves exactly its rate (the model before 2026-12-05). No effect with other
   * shapers.
   */
  tbfBucket?: boolean;
  /**
   * The share of the download shaper's bytes that its interface's counter reports (default 1).
   * The e2e testbed's veth counts a GSO packet's bytes once where tbf counts every segment's
   * headers: 0.96 of the rate at 150 Mbit/s, 0.985 at 15 (docs/controllers.md, "Simulator against
   * the testbed").
   */
  downCounterScale?: number;
  /**
   * The same for the upload shaper's interface (default 1): a counter that misses per-packet
   * overhead the shaper accounts (CAKE's overhead compensation) reads low the same way
   * (docs/controllers.md, "v62").
   */
  upCounterScale?: number;
  /**
   * Each read of either counter lags the bytes by a uniform random 0 to this many ms of the
   * shaper's rate (default 0: exact). Per-decision delivery then scatters with a standard
   * deviation of `lag / √6` of the decision's length, as the e2e testbed's did (sd 2–5 % of the
   * rate at 0.1 s: docs/controllers.md, "v62"); the long-run count stays exact.
   */
  counterLagMs?: number;
  /**
   * Each read of either counter samples the bytes a random delay after its tick, as the daemon's
   * `ip` coprocess does on a busy machine (counter_read.ts; default none: exact). Each decision's
   * load is then off by the difference of two delays over its length, anti-correlated from one
   * decision to the next as on the e2e testbed (docs/controllers.md, "v81"). Takes the place of
   * `counterLagMs` when both are given. Both counters are sampled at once; with `seen` the control loop's
   * clock reads the read's end (docs/controllers.md, "v84").
   */
  counterRead?: CounterRead;
  /** Called every step (`t`, s) with what a sparse packet would see ({@linkcode StepDelay}). */
  onStep?: (t: number, delay: StepDelay) => void;
  /** Progress callback, fraction 0–1, called about every 1 % of the run. */
  onProgress?: (fraction: number) => void;
}

/**
 * The added delay (ms) a sparse packet would see in each direction at one step (what an
 * independent probe measures; for comparisons with the e2e testbed), and the part of each spent in
 * our shapers' FIFOs (0 with CAKE): a probe that skips them, as the testbed's `htb-icmp` serves
 * ICMP, sees the difference.
 */
export interface StepDelay {
  downMs: number;
  upMs: number;
  oursDownMs: number;
  oursUpMs: number;
}

/** The result of one run. */
export interface RunResult {
  /** Scenario label: `ewma`, `no shaper`, `static`, `oracle` … */
  label: string;
  /** Scenario kind. */
  scenario: ScenarioKind;
  /** Trace name. */
  trace: string;
  /** Load profile name. */
  load: string;
  /** Seed. */
  seed: number;
  /** Simulated seconds. */
  durationS: number;
  /** Headline: worst direction's p95 added delay under load, ms. */
  p95DelayMs: number | null;
  /** Headline: mean of the loaded directions' utilisation, %. */
  utilisationPct: number | null;
  /** Headline: worst recovery after a capacity drop, s (null: no drop under load). */
  maxRecoveryS: number | null;
  /** Capacity drops after which delay never got back under the threshold. */
  unrecoveredDrops: number;
  /** Worst recovery, an unrecovered drop counting as the time it was given (a lower bound), s. */
  worstRecoveryS: number | null;
  /** Headline: the worse direction's median ramp-up after a load start, s (null: no start). */
  medianRampupS: number | null;
  /** Headline: worst ramp-up after a load start, s (unreached: its load period, a lower bound). */
  maxRampupS: number | null;
  /** Load starts after which 90 % of capacity was never reached. */
  unreachedRampups: number;
  /** Download metrics. */
  down: DirectionSummary;
  /** Upload metrics. */
  up: DirectionSummary;
  /** Reselection requests by the pipeline. */
  reselects: number;
  /** Times the pinger switched reflectors (two per reselection cycle: candidates, then peers). */
  pingerSwitches: number;
  /** Control decisions (ticks) the pipeline ran: the daemon's wake-ups under load (docs/footprint.md). */
  decisions: number;
  /** Probes sent / lost (a dead reflector's count as lost). */
  /** Probes sent and lost; `peakPerS`: the most sent in one second of the run (issue 11: ≤ 20). */
  probes: { sent: number; lost: number; peakPerS: number };
  /** Cuts under load, and those with no queue on our link (cut_audit.ts). */
  cuts: { down: CutCount; up: CutCount };
  /** Plot series. */
  series: { stepS: number; down: DirectionSeries; up: DirectionSeries };
}

/** Base RTT of the bulk traffic (server beyond the ISP), ms. */
const BULK_BASE_RTT_MS = 30;

/** Runs one scenario to the end and returns its metrics. */
export async function runScenario(options: RunOptions): Promise<RunResult> {
  const dt = SIM_DT_S;
  const steps = Math.round(options.durationS / dt);
  const { trace, settings } = options;
  const linkRandom = seededRandom(options.seed);
  const ctlRandom = seededRandom(options.seed ^ 0x5eed);
  const bufferS = (options.bufferMs ?? 250) / 1000;
  // TBF and HTB (with a plain leaf) queue like one FIFO; CAKE (or an fq_codel leaf) isolates
  // sparse flows.
  const shaperQueue = settings.shaper === "cake" || options.shaperFq ? "cake" : "fifo";
  const tbfBucket = settings.shaper === "tbf" && (options.tbfBucket ?? true);
  const down = new LinkDirection({
    dir: "down",
    bufferBytes: trace.nominal.down * 125 * bufferS,
    bufferAtCapacityS: options.bufferScales ? bufferS : undefined,
    shaperQueue,
    tbfBucket,
  });
  const up = new LinkDirection({
    dir: "up",
    bufferBytes: trace.nominal.up * 125 * bufferS,
    bufferAtCapacityS: options.bufferScales ? bufferS : undefined,
    shaperQueue,
    tbfBucket,
  });
  const clock = new VirtualClock(0);
  const { mode, tool } = simPingerKind(settings);
  // The FIFO queues a probe crosses (docs/simulator.md, "Probes through the link"): a FIFO
  // shaper's too, the download one unless it sits on the LAN egress behind the router.
  const fifo = shaperQueue === "fifo";
  const downShaperOnLan = options.downShaperOnLan ?? false;
  const reflectors = makeReflectors(options.reflectorCount ?? 10, linkRandom, {
    maxLoss: options.maxLoss,
    jitterScale: options.reflectorJitter,
  });
  const faultRandom = seededRandom(options.seed ^ 0xfa17);
  assignFaults(reflectors, options.reflectorFaults ?? [], faultRandom);
  const field = new ReflectorField(
    reflectors,
    {
      random: linkRandom,
      faultRandom,
      mode,
      intervalS: settings.tick_interval,
      schedule: tool === "ping" ? "per-reflector" : "restart",
      queues: {
        up: fifo ? [up.shaper, up.bottleneck] : [up.bottleneck],
        down: fifo && !downShaperOnLan ? [down.bottleneck, down.shaper] : [down.bottleneck],
        stepS: dt,
      },
    },
  );
  const pool = field.reflectors.map((r) => r.ip);

  const lagS = (options.counterLagMs ?? 0) / 1000;
  const read = options.counterRead;
  // Its own stream, drawn from only with a lag or read delays: the others stay as without them.
  const lagRandom = read !== undefined
    ? seededRandom(options.seed ^ 0x5ca7)
    : lagS > 0
    ? seededRandom(options.seed ^ 0xc0de)
    : undefined;
  // A lag reads bytes from before the tick; a read's delay (counter_read.ts) bytes from after
  // it, taken at the shaper's rate: a late sample reads high, the next one low. One read samples
  // both counters at once (`beginRead`).
  let sampleS = 0;
  // Slow spells (read_bursts.ts): one chain, on its own stream, for every leg over the link.
  const bursts = read?.bursts;
  const chain = read === undefined || bursts === undefined
    ? undefined
    : new ReadBurstChain(seededRandom(options.seed ^ 0xb0b5), { ...read, bursts });
  const legOf = (r: CounterRead): CounterRead => chain === undefined ? r : chain.leg();
  const beginRead = read === undefined || lagRandom === undefined ? undefined : () => {
    sampleS = counterReadDelayS(lagRandom, legOf(read));
    const doneS = sampleS + counterReadDelayS(lagRandom, legOf(read));
    // A delay in the counters' own advance (`seen` false, the testbed's) moves no clock.
    return { sampleS, doneS: read.seen === true ? doneS : 0 };
  };
  const tripRandom = read?.seen === true ? seededRandom(options.seed ^ 0x7e1a) : undefined;
  const roundTripS = read === undefined || tripRandom === undefined
    ? undefined
    : () => counterReadDelayS(tripRandom, legOf(read)) + counterReadDelayS(tripRandom, legOf(read));
  const lagOf = read !== undefined ? () => -sampleS : (random: () => number) => random() * lagS;
  const counter = (link: { counterBytes: number; shaperKbit: number }, scale: number) => {
    let last = 0;
    return (): number => {
      const lag = lagRandom === undefined || !Number.isFinite(link.shaperKbit)
        ? 0
        : lagOf(lagRandom) * link.shaperKbit * 125;
      // A counter never runs backwards.
      last = Math.max(last, (link.counterBytes - lag) * scale);
      return last;
    };
  };
  // Rate changes that land later (`SimHooks.setDlRate`'s `atS`), in the order given.
  const landing: { atS: number; set: () => void }[] = [];
  const land = (atS: number | undefined, set: () => void) => {
    if (atS === undefined) set();
    else landing.push({ atS, set });
  };
  const dlCounter = counter(down, options.downCounterScale ?? 1);
  const ulCounter = counter(up, options.upCounterScale ?? 1);
  let pipeline: SimPipeline | undefined;
  let label: string;
  switch (options.scenario) {
    case "controller": {
      if (options.pipeline === undefined) throw new Error("controller scenario needs a pipeline");
      pipeline = await options.pipeline({
        settings,
        clock,
        random: ctlRandom,
        pool,
        counters: {
          dlBytes: dlCounter,
          ulBytes: ulCounter,
          beginRead,
          roundTripS,
        },
        setDlRate: (kbit, atS) => land(atS, () => (down.shaperKbit = kbit)),
        setUlRate: (kbit, atS) => land(atS, () => (up.shaperKbit = kbit)),
        shaperQueues: simShaperQueues(shaperQueue, downShaperOnLan),
      });
      label = pipeline.name;
      break;
    }
    case "none":
      label = "no shaper";
      break;
    case "static":
      down.shaperKbit = settings.base_dl_rate;
      up.shaperKbit = settings.base_ul_rate;
      label = "static";
      break;
    case "oracle":
      label = "oracle";
      break;
  }
  const staticPeers = pool.slice(0, Math.max(1, settings.num_reflectors));

  const recDown = new DirectionRecorder({ steps, dt, thresholdMs: settings.dl_max_delta_owd });
  const recUp = new DirectionRecorder({ steps, dt, thresholdMs: settings.ul_max_delta_owd });
  const audit = new CutAudit({
    thresholdMs: Math.min(settings.dl_max_delta_owd, settings.ul_max_delta_owd),
    stepS: dt,
  });
  const baseRttS = (options.bulkRttMs ?? BULK_BASE_RTT_MS) / 1000;
  const flows = options.flows ?? 4;
  const cc = options.cc ?? "cubic";
  const lossAfterRtt = options.lossAfterRtt ?? true;
  const tcpDown = new TcpSource({
    baseRttS,
    dt,
    flows,
    random: seededRandom(options.seed * 2 + 1),
    cc,
    lossAfterRtt,
  });
  const tcpUp = new TcpSource({
    baseRttS,
    dt,
    flows,
    random: seededRandom(options.seed * 2 + 2),
    cc,
    lossAfterRtt,
  });
  const curDown = new ScheduleCursor(options.load.down);
  const curUp = new ScheduleCursor(options.load.up);
  const res: StepResult = { delivered: 0, dropped: 0, aqmSignal: false };
  const replies: PingReply[] = [];
  const tickS = pipeline?.tickIntervalS ?? settings.min_change_interval;
  let nextTick = tickS;
  let decisions = 0;
  const progressEvery = Math.max(1, Math.floor(steps / 100));
  const ackPath = options.ackPath ?? true;
  const drive = (link: LinkDirection, tcp: TcpSource, cursor: ScheduleCursor): Drive => ({
    dt,
    link,
    tcp,
    cursor,
    res,
    baseRttS,
    capKbit: 0,
    ackDelayS: 0,
  });
  const driveDown = drive(down, tcpDown, curDown);
  const driveUp = drive(up, tcpUp, curUp);
  /** The wait of the download's ACKs in the upload's queues (the ACK path), s. */
  let upAckWaitS = 0;

  try {
    for (let k = 0; k < steps; k++) {
      const t = k * dt;
      clock.set(t);
      while (landing.length > 0 && landing[0].atS <= t) landing.shift()!.set();
      const capDown = capacityAt(trace, "down", t);
      const capUp = capacityAt(trace, "up", t);
      if (options.scenario === "oracle") {
        down.shaperKbit = 0.95 * capDown;
        up.shaperKbit = 0.95 * capUp;
      }
      // Each direction's sparse delay, once per step: the metric and the probe's view (onStep).
      // With the ACK path the other direction's ACKs wait for what lies ahead of them at the
      // capacity to come, so a rise drains them early, as the probes (fifo_crossing.ts); the
      // download's ACKs take the upload's wait of the step before, as the download moves first.
      driveDown.capKbit = capDown;
      driveDown.ackDelayS = ackPath ? upAckWaitS : 0;
      const loadedDown = driveDirection(t, driveDown);
      const downDelayS = down.sparseDelayS(capDown);
      recDown.record(loadedDown, downDelayS * 1000, capDown, res.delivered, down.shaperKbit);
      driveUp.capKbit = capUp;
      driveUp.ackDelayS = ackPath
        ? down.sparseWaitS((bytes) => drainS(trace, { dir: "down", t: t + dt, bytes }))
        : 0;
      const loadedUp = driveDirection(t, driveUp);
      const upDelayS = up.sparseDelayS(capUp);
      if (ackPath) {
        upAckWaitS = up.sparseWaitS((bytes) => drainS(trace, { dir: "up", t: t + dt, bytes }));
      }
      recUp.record(loadedUp, upDelayS * 1000, capUp, res.delivered, up.shaperKbit);
      options.onStep?.(t, {
        downMs: downDelayS * 1000,
        upMs: upDelayS * 1000,
        oursDownMs: down.sparseShaperS() * 1000,
        oursUpMs: up.sparseShaperS() * 1000,
      });
      audit.record(
        { down: down.shaperKbit, up: up.shaperKbit },
        { down: loadedDown, up: loadedUp },
        { down: downDelayS * 1000, up: upDelayS * 1000 },
      );

      field.advance(t);
      if (pipeline !== undefined) {
        field.probe(t, pipeline.peers(), pipeline.probePlan?.());
        field.collect(t, replies);
        for (let i = 0; i < replies.length; i++) pipeline.onReply(replies[i]);
        replies.length = 0;
        // Await only real promises: a microtask per 10 ms step would dominate the run time.
        const advanced = pipeline.advance?.();
        if (advanced instanceof Promise) await advanced;
        if (isDue(t, nextTick)) {
          await pipeline.tick();
          decisions++;
          nextTick += pipeline.nextTickS?.() ?? tickS;
          const end = pipeline.tickEndS?.();
          if (end !== undefined && nextTick < end) nextTick = end;
        }
      } else {
        // Baselines without a controller still probe, so probe counts compare.
        field.probe(t, staticPeers);
        field.collect(t, replies);
        replies.length = 0;
      }
      if (options.onProgress !== undefined && k % progressEvery === 0) {
        options.onProgress(k / steps);
      }
    }
  } finally {
    await pipeline?.close?.();
  }
  options.onProgress?.(1);

  const sDown = recDown.summary(trace, "down");
  const sUp = recUp.summary(trace, "up");
  return {
    label,
    scenario: options.scenario,
    trace: trace.name,
    load: options.load.name,
    seed: options.seed,
    durationS: options.durationS,
    ...headline(sDown, sUp),
    down: sDown,
    up: sUp,
    reselects: pipeline?.reselects?.() ?? 0,
    pingerSwitches: pipeline?.pingerSwitches?.() ?? 0,
    decisions,
    probes: { sent: field.sent, lost: field.lost, peakPerS: field.peakPerS },
    cuts: { down: audit.down, up: audit.up },
    series: { stepS: 0.1, down: recDown.series, up: recUp.series },
  };
}

/** One direction as `driveDirection` moves it; `capKbit` and `ackDelayS` change every step. */
interface Drive {
  dt: number;
  link: LinkDirection;
  tcp: TcpSource;
  cursor: ScheduleCursor;
  /** Receives the link's step. */
  res: StepResult;
  baseRttS: number;
  /** The bottleneck's capacity this step, kbit/s. */
  capKbit: number;
  /** The wait of this direction's ACKs in the opposite queues, s (0 without the ACK path). */
  ackDelayS: number;
}

/** Moves one direction's traffic by one step; returns whether it was loaded. */
function driveDirection(t: number, d: Drive): boolean {
  const { dt, link, tcp, res, capKbit } = d;
  const seg = d.cursor.at(t);
  let arrivals: number;
  if (seg?.kind === "constant") {
    arrivals = constantBytes(seg.rateKbit ?? 0, dt) + tcp.send(false, dt);
  } else {
    arrivals = tcp.send(seg !== undefined, dt);
  }
  link.step(t, dt, arrivals, capKbit, res);
  tcp.ackDelayS = d.ackDelayS;
  if (seg?.kind !== "constant") {
    tcp.feedback(
      t,
      res.delivered,
      res.dropped,
      res.aqmSignal,
      d.baseRttS + link.bulkDelayS(capKbit) + d.ackDelayS,
    );
  } else {
    tcp.feedback(t, 0, 0, false, d.baseRttS);
  }
  return seg !== undefined;
}

function headline(d: DirectionSummary, u: DirectionSummary): Pick<
  RunResult,
  | "p95DelayMs"
  | "utilisationPct"
  | "maxRecoveryS"
  | "unrecoveredDrops"
  | "worstRecoveryS"
  | "medianRampupS"
  | "maxRampupS"
  | "unreachedRampups"
> {
  const p95 = [d.p95DelayMs, u.p95DelayMs].filter((x): x is number => x !== null);
  const util = [d.utilisationPct, u.utilisationPct].filter((x): x is number => x !== null);
  const rec = [d.maxRecoveryS, u.maxRecoveryS].filter((x): x is number => x !== null);
  const worstRec = [d.worstRecoveryS, u.worstRecoveryS].filter((x): x is number => x !== null);
  const medRamp = [d.medianRampupS, u.medianRampupS].filter((x): x is number => x !== null);
  const maxRamp = [d.maxRampupS, u.maxRampupS].filter((x): x is number => x !== null);
  return {
    worstRecoveryS: worstRec.length > 0 ? Math.max(...worstRec) : null,
    medianRampupS: medRamp.length > 0 ? Math.max(...medRamp) : null,
    maxRampupS: maxRamp.length > 0 ? Math.max(...maxRamp) : null,
    unreachedRampups: d.unreachedRampups + u.unreachedRampups,
    p95DelayMs: p95.length > 0 ? Math.max(...p95) : null,
    utilisationPct: util.length > 0
      ? Math.round((util.reduce((a, b) => a + b, 0) / util.length) * 100) / 100
      : null,
    maxRecoveryS: rec.length > 0 ? Math.max(...rec) : null,
    unrecoveredDrops: d.unrecoveredDrops + u.unrecoveredDrops,
  };
}

/** What `tc` would show the daemon of the simulated shapers (link.ts's FIFO, or CAKE-like). */
function simShaperQueues(queue: ShaperQueue, downShaperOnLan: boolean): ShaperQueues {
  const one = queue === "cake" ? { isolating: true, leaves: [] } : {
    isolating: false,
    leaves: ["bfifo"],
    fifo: { latencyS: FIFO_SHAPER_LATENCY_S, bytes: FIFO_SHAPER_BURST_BYTES },
  };
  return { dl: one, ul: one, dlCarriesProbes: !downShaperOnLan };
}
