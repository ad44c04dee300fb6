/**
 * THE control loop (docs/algorithm.md §7), used by the daemon, the simulator and the tests. One
 * `tick()` = one decision in Lua's order, except that the counters are read first (both belong to
 * the same instant; see the comment in `tick`): read the counters, collect deltas (and ask for a
 * reselection when fewer than 5 are fresh), then hold (counters unreadable), drop to the minimum
 * (no deltas) or decide (controller, then adjusters), clamp and floor, apply on change
 * (download first), write the stats row. Time, randomness and I/O are all injected.
 */
import type { Logger } from "../log/logger.ts";
import type { Settings } from "../config/types.ts";
import {
  ChangeNotTried,
  type ControlObserver,
  type CounterReader,
  type CounterReading,
  type OwdState,
  type PingControl,
  type ReselectRequester,
  SHAPER_REFRESH_S,
  type ShaperPair,
  type StatsSink,
  type TickEvent,
} from "./ports.ts";
import { type Clock, type RandomSource, wallMsToSecNs } from "../util/clock.ts";
import { collectDeltas, delayStatistic, MIN_FRESH_REFLECTORS } from "./deltas.ts";
import { lateReflectors } from "./late_reflectors.ts";
import type {
  AdjusterInput,
  Adjustment,
  RateAdjuster,
  Ratecontroller,
  RateDecision,
  TickReadings,
} from "./ratecontroller_port.ts";
import { stageLogger } from "../log/mod.ts";
import { IdleDetector } from "./idle.ts";
import { counterDelta } from "./counter_delta.ts";
import { OutageLog } from "./outage_log.ts";
import { ReadSpan } from "./read_span.ts";
import { loadChanged, type LoadReference, LoadReferences } from "./load_span.ts";
import { clampRate, clampThreshold, type RateBounds, rateBounds } from "./rate_bounds.ts";

/** Bytes → kbit (×8 bit/byte ÷ 1000 bit/kbit), upstream's `8/1000`. */
const KBIT_PER_BYTE = 8 / 1000;
/** Speed-history dump period (s). */
const SPEED_HISTORY_PERIOD_S = 300;

/** What the loop is built from. */
export interface ControlLoopOptions {
  /** Effective settings (rates, thresholds, tick interval, caps). */
  settings: Settings;
  /** Injected clock. */
  clock: Clock;
  /**
   * Random source. The loop itself draws nothing (controllers get theirs from their context);
   * accepted so callers can build controllers and the loop from one options object.
   */
  random?: RandomSource;
  /** Logger (default: the `control` stage logger). */
  logger?: Logger;
  /** Shared measurement state. */
  owd: OwdState;
  /** Where reselection requests go. */
  reselect: ReselectRequester;
  /** The rate controller. */
  controller: Ratecontroller;
  /** Plugins and other adjusters, run in order after the controller. */
  adjusters?: readonly RateAdjuster[];
  /** Byte counters of both interfaces. */
  counters: CounterReader;
  /** The shapers of both interfaces (download, upload). */
  shaper: ShaperPair;
  /** Statistics output; absent when statistics are suppressed. */
  stats?: StatsSink;
  /** Stops and restarts pinging; idle mode (setting `idle_mode`) needs it. */
  pinging?: PingControl;
  /** Told about every tick (metrics, live page, MQTT); see `ControlObserver`. */
  observers?: readonly ControlObserver[];
}

/** Which branch a tick took (docs/algorithm.md §7.4). */
export type TickPath = "normal" | "hold" | "no-deltas" | "idle";

/** The outcome of one tick. */
export interface TickResult {
  /** Branch taken. */
  path: TickPath;
  /** Clamped, floored download rate decided this tick. */
  next_dl_rate: number;
  /** Clamped, floored upload rate decided this tick. */
  next_ul_rate: number;
  /** Whether each shaper was changed successfully. */
  applied: { dl: boolean; ul: boolean };
  /** Readings of a normal tick. */
  readings?: TickReadings;
}

/** A snapshot of the loop for the simulator and metrics. */
export interface ControlLoopState {
  /** Download rate in force (kbit/s). */
  cur_dl_rate: number;
  /** Upload rate in force (kbit/s). */
  cur_ul_rate: number;
  /** Download delay threshold in force (ms), possibly changed by an adjuster. */
  dl_max_delta_owd: number;
  /** Upload delay threshold in force (ms). */
  ul_max_delta_owd: number;
  /** Readings of the last normal tick. */
  lastReadings: TickReadings | null;
  /** Branch of the last tick. */
  lastPath: TickPath | null;
  /** Fresh reflectors in the last tick. */
  fresh: number;
  /** Ticks run. */
  ticks: number;
  /** Failed shaper changes so far. */
  shaperFailures: number;
  /** In idle mode (not pinging, shaper held). */
  idle: boolean;
}

/** A counter reading and the time it is taken to stand for (the read's midpoint, s). */
interface TimedReading {
  counters: CounterReading | null;
  readS: number;
  /** How long the read took, s. */
  spanS: number;
}

function validNumber(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v) && v >= 0;
}

/** The decision period of `controller`: its own, else `min_change_interval` (s). */
export function decisionPeriodS(
  controller: Pick<Ratecontroller, "intervalS">,
  settings: Pick<Settings, "min_change_interval">,
): number {
  const own = controller.intervalS;
  return own !== undefined && own > 0 ? own : settings.min_change_interval;
}

/** The control loop. Call `start()` once, then `tick()` every `min_change_interval`. */
export class ControlLoop {
  readonly #s: Settings;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #owd: OwdState;
  readonly #reselect: ReselectRequester;
  readonly #controller: Ratecontroller;
  readonly #adjusters: readonly RateAdjuster[];
  readonly #counters: CounterReader;
  readonly #shapers: ShaperPair;
  readonly #stats?: StatsSink;
  readonly #boundsDl: RateBounds;
  readonly #boundsUl: RateBounds;
  readonly #pinging?: PingControl;
  readonly #idleDetector?: IdleDetector;
  #idling = false;
  /**
   * From the start of control or the end of idle mode until 5 reflectors are fresh (bounded):
   * too few is no outage then. After idle mode the rates are held (the baselines are old); at
   * the start the controller decides on the replies already in (docs/algorithm.md §5).
   */
  #warming: { sinceS: number; hold: boolean } | undefined;
  readonly #observers: readonly ControlObserver[];

  #curDl = 0;
  #curUl = 0;
  #dirtyDl = false;
  #dirtyUl = false;
  /** When the shapers were last asked for a change (monotonic s). */
  #lastApplyS = -Infinity;
  #thrDl: number;
  #thrUl: number;
  /** The certain readings a load may be measured from; the last is the newest (v87, v96). */
  readonly #refs = new LoadReferences();
  /** The time of the last decision's reading (the last reference's but after an uncertain one), s. */
  #tLast = 0;
  #startS = 0;
  #lastDumpS = 0;
  #started = false;
  #lastReadings: TickReadings | null = null;
  #lastPath: TickPath | null = null;
  #fresh = 0;
  #ticks = 0;
  #shaperFailures = 0;
  readonly #outage: OutageLog;
  /** Interfaces whose last rate change failed, with the reason logged. */
  readonly #failing = new Map<string, string>();
  /** The exit rate was asked: no change is retried after it. */
  #exiting = false;
  /**
   * While a `setRates(…, { errors })` runs: where each failed shaper's error goes by interface,
   * not logged here but kept as logged (its caller logs it).
   */
  #quietErrors: Map<string, string> | undefined;
  #countersMissing = false;
  readonly #readSpan = new ReadSpan();
  /** Failures of the tick in progress, for its observer event. */
  #tickFaults = { controller: false, adjusters: 0 };

  /** Builds the loop; nothing runs until `start()`. */
  constructor(options: ControlLoopOptions) {
    this.#s = options.settings;
    this.#clock = options.clock;
    this.#log = options.logger ?? stageLogger("control");
    this.#owd = options.owd;
    this.#reselect = options.reselect;
    this.#controller = options.controller;
    this.#adjusters = options.adjusters ?? [];
    this.#counters = options.counters;
    this.#shapers = options.shaper;
    this.#stats = options.stats;
    this.#observers = options.observers ?? [];
    this.#thrDl = options.settings.dl_max_delta_owd;
    this.#thrUl = options.settings.ul_max_delta_owd;
    this.#outage = new OutageLog(this.#log);
    this.#boundsDl = rateBounds(options.settings, "dl");
    this.#boundsUl = rateBounds(options.settings, "ul");
    this.#pinging = options.pinging;
    if (options.pinging !== undefined && options.settings.idle_mode) {
      this.#idleDetector = new IdleDetector({
        thresholdKbit: options.settings.idle_threshold,
        delayS: options.settings.idle_delay,
        maxKbit: { dl: this.#boundsDl.max, ul: this.#boundsUl.max },
      });
    }
  }

  /** The decision period: the controller's own, else `min_change_interval` (s). */
  get intervalS(): number {
    return decisionPeriodS(this.#controller, this.#s);
  }

  /**
   * The wait before the next tick (s): `intervalS`, but while idle at least
   * `min_change_interval`. A faster controller (capacity: every 0.1 s) has no samples to decide
   * on while the pinger is paused; the counter readings that end idle mode come at the normal
   * tick cadence (docs/footprint.md).
   */
  get nextIntervalS(): number {
    const own = this.intervalS;
    return this.#idling ? Math.max(own, this.#s.min_change_interval) : own;
  }

  /** The current state (a copy). */
  get state(): ControlLoopState {
    return {
      cur_dl_rate: this.#curDl,
      cur_ul_rate: this.#curUl,
      dl_max_delta_owd: this.#thrDl,
      ul_max_delta_owd: this.#thrUl,
      lastReadings: this.#lastReadings,
      lastPath: this.#lastPath,
      fresh: this.#fresh,
      ticks: this.#ticks,
      shaperFailures: this.#shaperFailures,
      idle: this.#idling,
    };
  }

  /**
   * Starts controlling: sets both shapers to the initial rates (default `round(0.6 × base)`,
   * the Rust port's start), reads the counters once as the reference, and dumps the speed
   * history (Lua dumps first at start).
   */
  async start(options: { initialDlRate?: number; initialUlRate?: number } = {}): Promise<void> {
    const s = this.#s;
    const now = this.#clock.monotonicS();
    this.#startS = now;
    this.#lastDumpS = now - SPEED_HISTORY_PERIOD_S - 10;
    const dl = options.initialDlRate ?? Math.round(0.6 * s.base_dl_rate);
    const ul = options.initialUlRate ?? Math.round(0.6 * s.base_ul_rate);
    const nextDl = clampRate(dl, this.#boundsDl, this.#boundsDl.min);
    const nextUl = clampRate(ul, this.#boundsUl, this.#boundsUl.min);
    this.#curDl = nextDl;
    this.#curUl = nextUl;
    // Forced: the shapers' state is unknown before the first successful change.
    this.#dirtyDl = true;
    this.#dirtyUl = true;
    await this.#apply(nextDl, nextUl);
    const first = await this.#readCounters();
    this.#setReference(first.counters, first.readS);
    this.#warming = { sinceS: now, hold: false };
    this.#started = true;
    this.#log.info("control started at download {dl} kbit/s, upload {ul} kbit/s", {
      dl: this.#curDl,
      ul: this.#curUl,
    });
    this.#maybeDumpSpeedHistory(now);
  }

  /** One controller tick (docs/algorithm.md §7.2, Lua order). Never throws for runtime faults. */
  async tick(): Promise<TickResult> {
    if (!this.#started) throw new Error("ControlLoop.tick() before start()");
    const s = this.#s;
    const now = this.#clock.monotonicS();
    this.#ticks++;
    this.#tickFaults = { controller: false, adjusters: 0 };

    // The counters first: their reading is the tick's first turn of the event loop, in which the
    // pinger's lines that arrived while the thread was blocked (the daemon's busy wait, docs/
    // footprint.md "CPU under load") are taken in, so the deltas below include them. That takes
    // an I/O poll (the `ip` round trip is one, an asynchronous file read is not: docs/algorithm.md
    // §5, "When a reply counts as received").
    // Each load is timed by its reading, not by the tick (docs/controllers.md, "v84").
    const { counters, readS, spanS } = await this.#readCounters(now);
    const deltas = collectDeltas(this.#owd, now, { tickInterval: s.tick_interval });
    this.#fresh = deltas.fresh;
    // At the start and after idle mode the pinger needs a moment for fresh replies from every
    // reflector. A controller deciding every 0.1 s (capacity) would otherwise request a
    // reselection before the first round of replies is in.
    if (
      this.#warming !== undefined &&
      (!deltas.tooFew || now - this.#warming.sinceS >= Math.max(2, 4 * s.tick_interval))
    ) {
      this.#warming = undefined;
    }
    const warming = this.#warming;
    if (deltas.tooFew && warming === undefined && !this.#idling) {
      // Peers late behind a queue on our own link are not replaced (docs/controllers.md, "v66").
      const late = lateReflectors(this.#owd, now, { tickInterval: s.tick_interval });
      const reselect = deltas.fresh + late < MIN_FRESH_REFLECTORS;
      this.#outage.tooFew(now, deltas.fresh, reselect ? undefined : { late });
      if (reselect) {
        this.#reselect.requestReselect(`only ${deltas.fresh} fresh reflectors`, {
          tooFewFresh: true,
        });
      }
    } else if (!deltas.tooFew) {
      this.#outage.enough(now, deltas.fresh);
    }

    const stepped = this.#idleStep(now, { counters, readS });
    const idle = stepped instanceof Promise ? await stepped : stepped;
    if (idle !== undefined) {
      this.#lastPath = idle.path;
      this.#notify({
        now,
        path: idle.path,
        counterFailure: counters === null,
        applied: idle.applied,
        nextDl: idle.next_dl_rate,
        nextUl: idle.next_ul_rate,
      });
      return idle;
    }
    let path: TickPath;
    let nextDl = this.#curDl;
    let nextUl = this.#curUl;
    let readings: TickReadings | undefined;

    const holdWarming = warming !== undefined && (warming.hold || deltas.ul.length === 0);
    const last = this.#refs.last;
    if (counters === null || last === undefined || holdWarming) {
      // Hold. The reference (the last certain reading) is only moved by a good reading, so the
      // next load covers the whole gap instead of a spike over a short interval.
      path = "hold";
      if (counters !== null) this.#setReference(counters, readS);
    } else {
      // A reading whose moment is uncertain (a slow read's jitter) is decided on but not made
      // the reference: the load runs from the last certain one, the decision's `dt` from the
      // last decision (docs/controllers.md, "v87").
      const uncertain = this.#readSpan.tooUncertain(spanS, readS - last.readS);
      const dt = readS - this.#tLast;
      const load = this.#load(counters, { readS, last });
      const dlBytes = load.dl.bytes;
      const ulBytes = load.ul.bytes;
      if (deltas.ul.length === 0 || deltas.dl.length === 0) {
        path = "no-deltas";
        nextDl = s.min_dl_rate;
        nextUl = s.min_ul_rate;
      } else {
        path = "normal";
        // Left to right as upstream writes it, to reproduce its floating-point results.
        const downUtil = load.dl.spanS > 0 ? KBIT_PER_BYTE * dlBytes / load.dl.spanS : 0;
        const upUtil = load.ul.spanS > 0 ? KBIT_PER_BYTE * ulBytes / load.ul.spanS : 0;
        readings = {
          now_s: now - this.#startS,
          dt,
          rx_load: downUtil / this.#curDl,
          tx_load: upUtil / this.#curUl,
          down_del_stat: delayStatistic(deltas.dl)!,
          up_del_stat: delayStatistic(deltas.ul)!,
          down_utilisation: downUtil,
          up_utilisation: upUtil,
          cur_dl_rate: this.#curDl,
          cur_ul_rate: this.#curUl,
          dl_bytes: dlBytes,
          ul_bytes: ulBytes,
          dl_deltas: deltas.dl,
          ul_deltas: deltas.ul,
          samples: deltas.samples,
        };
        this.#lastReadings = readings;
        // A controller that decides synchronously (the TypeScript ones) and a loop without
        // adjusters cost no await each (docs/footprint.md, "Fourteenth session").
        const decided = this.#decide(readings);
        const decision = decided instanceof Promise ? await decided : decided;
        nextDl = decision.next_dl_rate;
        nextUl = decision.next_ul_rate;
        if (this.#adjusters.length > 0) {
          [nextDl, nextUl] = await this.#runAdjusters(readings, nextDl, nextUl);
        }
      }
      if (uncertain) this.#tLast = readS;
      else {
        this.#refs.add({ counters, readS });
        this.#tLast = readS;
      }
    }

    nextDl = clampRate(nextDl, this.#boundsDl, this.#curDl);
    nextUl = clampRate(nextUl, this.#boundsUl, this.#curUl);
    if (nextDl !== this.#curDl || nextUl !== this.#curUl) {
      this.#log.debug("next_ul_rate {ul} next_dl_rate {dl}", { ul: nextUl, dl: nextDl });
    }
    this.#refreshDue(now);
    // Most busy decisions change at most one rate, many none: nothing to await then.
    const applied = this.#applyNeeded(nextDl, nextUl)
      ? await this.#apply(nextDl, nextUl)
      : { dl: false, ul: false };
    this.#lastPath = path;

    if (path === "normal" && readings !== undefined && this.#stats !== undefined) {
      const { times, timens } = wallMsToSecNs(this.#clock.wallMs());
      const row = {
        times,
        timens,
        rxload: readings.rx_load,
        txload: readings.tx_load,
        deltadelaydown: readings.down_del_stat,
        deltadelayup: readings.up_del_stat,
        dlrate: this.#curDl,
        uprate: this.#curUl,
      };
      this.#log.debug("stats {row}", { row });
      try {
        this.#stats.statsRow(row);
      } catch (e) {
        this.#log.error("stats row failed: {error}", { error: String(e) });
      }
    }
    this.#maybeDumpSpeedHistory(now);
    this.#notify({
      now,
      path,
      counterFailure: counters === null,
      applied,
      nextDl,
      nextUl,
      readings,
    });
    return { path, next_dl_rate: nextDl, next_ul_rate: nextUl, applied, readings };
  }

  /** Tells the observers what this tick did; a throwing observer is logged, never fatal. */
  #notify(t: {
    now: number;
    path: TickPath;
    counterFailure: boolean;
    applied: { dl: boolean; ul: boolean };
    nextDl: number;
    nextUl: number;
    readings?: TickReadings;
  }): void {
    if (this.#observers.length === 0) return;
    const r = t.readings;
    const end = this.#clock.monotonicS();
    const event: TickEvent = {
      wallMs: this.#clock.wallMs(),
      monotonicS: end,
      durationS: Math.max(0, end - t.now),
      path: t.path,
      dlRate: this.#curDl,
      ulRate: this.#curUl,
      dlThresholdMs: this.#thrDl,
      ulThresholdMs: this.#thrUl,
      fresh: this.#fresh,
      readings: r === undefined ? undefined : {
        rxLoad: r.rx_load,
        txLoad: r.tx_load,
        dlDelayMs: r.down_del_stat,
        ulDelayMs: r.up_del_stat,
        dlThroughput: r.down_utilisation,
        ulThroughput: r.up_utilisation,
      },
      counterFailure: t.counterFailure,
      // A change was attempted (rate differs or dirty) and did not succeed.
      shaperFailures: {
        dl: !t.applied.dl && this.#dirtyDl,
        ul: !t.applied.ul && this.#dirtyUl,
      },
      controllerFailure: this.#tickFaults.controller,
      adjusterFailures: this.#tickFaults.adjusters,
    };
    for (const o of this.#observers) {
      try {
        o.onTick(event);
      } catch (e) {
        this.#log.error("tick observer failed: {error}", { error: String(e) });
      }
    }
  }

  /**
   * Sets both shapers now (startup minimum, exit rate), through the same clamp as every tick;
   * failures are logged. `exit`: the daemon's last change, so a failure is not retried (and said
   * so). `errors`: a failure's error is put there by interface instead of logged, and kept as
   * logged, so that the next try logs the same error at DEBUG only: the start-up change, whose
   * caller logs each failure in its own words (a refusal for want of privilege the daemon's one
   * FATAL, any other an ERROR at once; docs/operation.md, "Not allowed to change the shaper" and
   * "A change that fails at start-up").
   */
  async setRates(
    dl: number,
    ul: number,
    options: { exit?: boolean; errors?: Map<string, string> } = {},
  ): Promise<{ dl: boolean; ul: boolean }> {
    if (options.exit) this.#exiting = true;
    this.#dirtyDl = true;
    this.#dirtyUl = true;
    const fallbackDl = this.#curDl > 0 ? this.#curDl : this.#boundsDl.min;
    const fallbackUl = this.#curUl > 0 ? this.#curUl : this.#boundsUl.min;
    this.#quietErrors = options.errors;
    try {
      return await this.#apply(
        clampRate(dl, this.#boundsDl, fallbackDl),
        clampRate(ul, this.#boundsUl, fallbackUl),
      );
    } finally {
      this.#quietErrors = undefined;
    }
  }

  /**
   * Idle mode (docs/footprint.md): enters it after `idle_delay` s of quiet (pinging stops, the
   * shaper goes to `idle_rate`), leaves it on the first busy reading (pinging resumes in this
   * tick). Returns the tick's result while idle, `undefined` when the tick runs normally; a
   * promise only when it enters or leaves idle mode (a busy tick costs no await here).
   */
  #idleStep(
    now: number,
    read: Omit<TimedReading, "spanS">,
  ): TickResult | undefined | Promise<TickResult | undefined> {
    if (this.#idleDetector === undefined || this.#pinging === undefined) return undefined;
    const { counters, readS } = read;
    const last = this.#refs.last;
    if (counters === null || last === undefined) return this.#idling ? this.#held() : undefined;
    const verdict = this.#idleDetector.observe(last.counters, counters, {
      prevS: last.readS,
      nowS: readS,
    });
    if (this.#idling) {
      this.#setReference(counters, readS);
      if (verdict !== "busy") {
        return this.#refreshDue(now)
          ? this.#apply(this.#curDl, this.#curUl).then((a) => this.#held(a))
          : this.#held();
      }
      return this.#leaveIdle(now);
    }
    if (verdict !== "idle") return undefined;
    return this.#enterIdle({ counters, readS });
  }

  /** Leaves idle mode: pinging resumes, the next ticks hold until fresh samples are in. */
  async #leaveIdle(now: number): Promise<TickResult> {
    this.#idling = false;
    this.#idleDetector?.reset();
    this.#warming = { sinceS: now, hold: true };
    this.#log.info("leaving idle mode: traffic is back, pinging again");
    await this.#pinging?.resume().catch((e) =>
      this.#log.error("resuming the pinger failed: {error}", { error: String(e) })
    );
    return { ...this.#held(), path: "hold" };
  }

  /** Enters idle mode: pinging stops, the shaper goes to `idle_rate`. */
  async #enterIdle(read: { counters: CounterReading; readS: number }): Promise<TickResult> {
    this.#setReference(read.counters, read.readS);
    this.#idling = true;
    const s = this.#s;
    const [dl, ul] = s.idle_rate === "leave"
      ? [this.#curDl, this.#curUl]
      : s.idle_rate === "min"
      ? [this.#boundsDl.min, this.#boundsUl.min]
      : [s.base_dl_rate, s.base_ul_rate];
    const nextDl = clampRate(dl, this.#boundsDl, this.#curDl);
    const nextUl = clampRate(ul, this.#boundsUl, this.#curUl);
    this.#log.info(
      "entering idle mode: under {threshold} kbit/s both ways for {delay} s; pinging stopped, " +
        "shaper held at download {dl} kbit/s, upload {ul} kbit/s",
      { threshold: s.idle_threshold, delay: s.idle_delay, dl: nextDl, ul: nextUl },
    );
    await this.#pinging?.pause().catch((e) =>
      this.#log.error("pausing the pinger failed: {error}", { error: String(e) })
    );
    return {
      ...this.#held(await this.#apply(nextDl, nextUl)),
      next_dl_rate: nextDl,
      next_ul_rate: nextUl,
    };
  }

  /** An idle tick's result: the rates held. */
  #held(applied = { dl: false, ul: false }): TickResult {
    return { path: "idle", next_dl_rate: this.#curDl, next_ul_rate: this.#curUl, applied };
  }

  /**
   * Makes `counters`, read at `readS`, the only reference of the next load and decision (after a
   * hold or in idle mode the next load covers the whole gap).
   */
  #setReference(counters: CounterReading | null, readS: number): void {
    this.#refs.reset(counters === null ? undefined : { counters, readS });
    this.#tLast = readS;
  }

  /**
   * Each direction's bytes and the span they moved in up to `counters`, read at `readS`: from the
   * reference far enough back for the reads' jitter (`LoadReferences.pick`), unless the load over
   * the last decision alone shows the load changed (docs/controllers.md, "v96"). Reads that take
   * no time measure from `last`.
   */
  #load(
    counters: CounterReading,
    x: { readS: number; last: LoadReference },
  ): Record<"dl" | "ul", { bytes: number; spanS: number }> {
    const uncertaintyS = this.#readSpan.uncertaintyS();
    const ref = this.#refs.pick(x.readS, uncertaintyS);
    // A counter reset is logged once, by the load from the last reading.
    const quiet = ref !== x.last;
    const dl = this.#loadFrom(ref, { counters, readS: x.readS, direction: "download", quiet });
    const ul = this.#loadFrom(ref, { counters, readS: x.readS, direction: "upload", quiet });
    if (!quiet) return { dl, ul };
    const shortS = x.readS - x.last.readS;
    const lastDl = this.#loadFrom(x.last, { counters, readS: x.readS, direction: "download" });
    const lastUl = this.#loadFrom(x.last, { counters, readS: x.readS, direction: "upload" });
    const changed = (a: { bytes: number; spanS: number }, b: { bytes: number; spanS: number }) =>
      loadChanged(a.bytes / a.spanS, b.bytes / b.spanS, { shortS, uncertaintyS });
    return {
      dl: changed(lastDl, dl) ? lastDl : dl,
      ul: changed(lastUl, ul) ? lastUl : ul,
    };
  }

  /** One direction's bytes from `ref` to `x.counters`, and their span, s (`quiet`: a reset unlogged). */
  #loadFrom(
    ref: LoadReference,
    x: {
      counters: CounterReading;
      readS: number;
      direction: "download" | "upload";
      quiet?: boolean;
    },
  ): { bytes: number; spanS: number } {
    const spanS = x.readS - ref.readS;
    const dl = x.direction === "download";
    const bytes = this.#bytesSince(
      dl ? x.counters.dlBytes : x.counters.ulBytes,
      dl ? ref.counters.dlBytes : ref.counters.ulBytes,
      {
        direction: x.direction,
        reset: dl
          ? x.counters.dlIfindex !== ref.counters.dlIfindex
          : x.counters.ulIfindex !== ref.counters.ulIfindex,
        dtS: spanS,
        maxKbit: dl ? this.#boundsDl.max : this.#boundsUl.max,
        quiet: x.quiet,
      },
    );
    return { bytes, spanS };
  }

  /**
   * Reads the counters, timed at the midpoint of the clock before (`beforeS`, the tick's time)
   * and after the read: the reader samples the kernel's counters somewhere in between
   * (docs/controllers.md, "v84"). One clock read per tick.
   */
  async #readCounters(
    beforeS = this.#clock.monotonicS(),
  ): Promise<TimedReading> {
    const counters = await this.#readCountersOnly();
    const afterS = this.#clock.monotonicS();
    return { counters, readS: (beforeS + afterS) / 2, spanS: afterS - beforeS };
  }

  async #readCountersOnly(): Promise<CounterReading | null> {
    let r: CounterReading | null;
    try {
      r = await this.#counters.read({ idle: this.#idling });
    } catch (e) {
      this.#log.warning("reading the byte counters failed: {error}", { error: String(e) });
      r = null;
    }
    if (r === null && !this.#countersMissing) {
      this.#log.warning("byte counters unreadable: holding the rates until they are back");
    } else if (r !== null && this.#countersMissing) {
      this.#log.info("byte counters readable again");
    }
    this.#countersMissing = r === null;
    return r;
  }

  /**
   * Bytes moved since `prev`, across a 32-bit wrap (`counterDelta`); another decrease or a new
   * interface index is a reset → 0 bytes.
   */
  #bytesSince(
    cur: number,
    prev: number,
    options: { direction: string; reset: boolean; dtS: number; maxKbit: number; quiet?: boolean },
  ): number {
    const d = options.reset ? undefined : counterDelta(prev, cur, options);
    if (d === undefined) {
      if (options.quiet === true) return 0;
      this.#log.info("{direction} byte counter was reset ({prev} → {cur}): counting 0 bytes", {
        direction: options.direction,
        prev,
        cur,
      });
      return 0;
    }
    return d;
  }

  /**
   * The controller's decision, checked; a promise only when the controller answered with one (a
   * Lua controller), so a synchronous decision costs no await.
   */
  #decide(readings: TickReadings): RateDecision | Promise<RateDecision> {
    let d: RateDecision | Promise<RateDecision>;
    try {
      d = this.#controller.decide({
        readings,
        dl_max_delta_owd: this.#thrDl,
        ul_max_delta_owd: this.#thrUl,
      });
    } catch (e) {
      return this.#controllerFailed(e);
    }
    if (isThenable(d)) {
      return Promise.resolve(d).then((v) => this.#checked(v), (e) => this.#controllerFailed(e));
    }
    return this.#checked(d);
  }

  /** A controller that threw or rejected: the rates are held. */
  #controllerFailed(e: unknown): RateDecision {
    this.#tickFaults.controller = true;
    this.#log.error("controller {name} failed, holding rates: {error}", {
      name: this.#controller.name,
      error: String(e),
    });
    return { next_dl_rate: this.#curDl, next_ul_rate: this.#curUl };
  }

  /** A controller's answer: its reselection request taken, an invalid rate held. */
  #checked(d: RateDecision): RateDecision {
    if (d?.reselect === true) {
      this.#reselect.requestReselect(`controller ${this.#controller.name} asked`);
    }
    if (validNumber(d?.next_dl_rate) && validNumber(d.next_ul_rate)) return d;
    // An invalid rate is held (the usual case above builds nothing: it runs every decision).
    return {
      next_dl_rate: this.#validRate(d, "next_dl_rate", this.#curDl),
      next_ul_rate: this.#validRate(d, "next_ul_rate", this.#curUl),
    };
  }

  /** The controller's `key` if valid, else `hold` (logged, counted as a controller failure). */
  #validRate(
    d: RateDecision | undefined,
    key: keyof Pick<RateDecision, "next_dl_rate" | "next_ul_rate">,
    hold: number,
  ): number {
    const v = d?.[key];
    if (validNumber(v)) return v;
    this.#tickFaults.controller = true;
    this.#log.warning("controller {name} returned invalid {key} {value}: holding", {
      name: this.#controller.name,
      key,
      value: String(v),
    });
    return hold;
  }

  async #runAdjusters(
    readings: TickReadings,
    dl: number,
    ul: number,
  ): Promise<[number, number]> {
    for (const a of this.#adjusters) {
      const input: AdjusterInput = {
        readings,
        next_dl_rate: dl,
        next_ul_rate: ul,
        dl_max_delta_owd: this.#thrDl,
        ul_max_delta_owd: this.#thrUl,
      };
      let r: Adjustment;
      try {
        r = await a.adjust(input);
      } catch (e) {
        this.#tickFaults.adjusters++;
        this.#log.error("adjuster {name} failed: {error}", { name: a.name, error: String(e) });
        continue;
      }
      if (r === null || typeof r !== "object") continue;
      const changes: string[] = [];
      const take = (
        key: keyof Adjustment,
        old: number,
        digits: number,
        bound: (v: number) => number,
      ): number => {
        const raw = r[key];
        if (raw === undefined || raw === old) return old;
        if (!validNumber(raw)) {
          this.#log.warning("adjuster {name} returned invalid {key} {value}: ignored", {
            name: a.name,
            key,
            value: String(raw),
          });
          return old;
        }
        const v = bound(raw);
        if (v === old) return old;
        changes.push(`${key}: ${old.toFixed(digits)} -> ${v.toFixed(digits)}`);
        return v;
      };
      this.#thrUl = take("ul_max_delta_owd", this.#thrUl, 1, (v) => clampThreshold(v, this.#thrUl));
      this.#thrDl = take("dl_max_delta_owd", this.#thrDl, 1, (v) => clampThreshold(v, this.#thrDl));
      ul = take("next_ul_rate", ul, 0, (v) => clampRate(v, this.#boundsUl, ul));
      dl = take("next_dl_rate", dl, 0, (v) => clampRate(v, this.#boundsDl, dl));
      if (changes.length > 0) {
        // Rates change every tick (DEBUG, like the controller's); thresholds rarely (INFO).
        const thresholds = changes.some((c) => c.includes("max_delta_owd"));
        const values = { name: r.by ?? a.name, changes: changes.join("; ") };
        if (thresholds) this.#log.info("settings changed by plugin {name}: {changes}", values);
        else this.#log.debug("settings changed by plugin {name}: {changes}", values);
      } else {
        this.#log.debug("No results were sent by plugin {name}", { name: a.name });
      }
    }
    return [dl, ul];
  }

  /** Whether `#apply` has anything to do: a rate differs, or the last change of one failed. */
  #applyNeeded(dl: number, ul: number): boolean {
    return this.#dlPending(dl) || this.#ulPending(ul);
  }

  /** The download shaper needs `dl`: it differs from the rate in place, or the last change failed. */
  #dlPending(dl: number): boolean {
    return dl !== this.#curDl || this.#dirtyDl;
  }

  /** The same for the upload shaper. */
  #ulPending(ul: number): boolean {
    return ul !== this.#curUl || this.#dirtyUl;
  }

  /**
   * Marks both rates to be set again when no change was asked for {@linkcode SHAPER_REFRESH_S};
   * true when it did.
   */
  #refreshDue(now: number): boolean {
    if (now - this.#lastApplyS < SHAPER_REFRESH_S) return false;
    this.#dirtyDl = true;
    this.#dirtyUl = true;
    return true;
  }

  /**
   * Applies changed rates, both asked at once (download first), so that a `tc -batch` session
   * writes them together: one round trip to a remote router, not two (docs/remote.md, "A slow
   * management link"). Each direction's outcome is its own: a failure keeps that direction's old
   * rate and retries it later.
   */
  async #apply(dl: number, ul: number): Promise<{ dl: boolean; ul: boolean }> {
    this.#lastApplyS = this.#clock.monotonicS();
    const [dlSet, ulSet] = await Promise.all([
      this.#dlPending(dl) ? this.#setOne(this.#shapers.dl, dl) : undefined,
      this.#ulPending(ul) ? this.#setOne(this.#shapers.ul, ul) : undefined,
    ]);
    if (dlSet !== undefined) {
      if (dlSet) this.#curDl = dl;
      this.#dirtyDl = !dlSet;
    }
    if (ulSet !== undefined) {
      if (ulSet) this.#curUl = ul;
      this.#dirtyUl = !ulSet;
    }
    return { dl: dlSet === true, ul: ulSet === true };
  }

  /**
   * Sets one shaper. A failure keeps the old rate (the loop retries it next tick, at the 10 s
   * refresh while idle, not at all after the exit rate) and is logged once per distinct reason: a
   * root qdisc replaced by an administrator fails every tick until it is back (docs/operation.md),
   * and that must not flood the log. A change not tried (the router away, the daemon stopping)
   * has its cause logged elsewhere: DEBUG, and no reason of the shaper's.
   */
  async #setOne(shaper: ShaperPair["dl"], kbit: number): Promise<boolean> {
    try {
      await shaper.setRate(kbit);
      if (this.#failing.delete(shaper.ifname)) {
        this.#log.info("rate changes on {ifname} work again (now {kbit} kbit/s)", {
          ifname: shaper.ifname,
          kbit,
        });
      }
      return true;
    } catch (e) {
      this.#shaperFailures++;
      if (e instanceof ChangeNotTried) {
        this.#log.debug("setting {ifname} to {kbit} kbit/s not tried: {error}", {
          ifname: shaper.ifname,
          kbit,
          error: e.message,
        });
        return false;
      }
      const stderr = (e as { stderr?: string }).stderr;
      const error = (stderr?.trim() || (e as Error)?.message || String(e)).replaceAll("\n", " ");
      const repeated = this.#failing.get(shaper.ifname) === error;
      this.#failing.set(shaper.ifname, error);
      if (this.#quietErrors !== undefined) {
        this.#quietErrors.set(shaper.ifname, error);
        return false;
      }
      const message = "setting {ifname} to {kbit} kbit/s failed ({retry}): {error}";
      const values = { ifname: shaper.ifname, kbit, retry: this.#retryWords(), error };
      if (repeated) this.#log.debug(message, values);
      else this.#log.error(message, values);
      return false;
    }
  }

  /** When a failed change is tried again (`#setOne`), in its log line's words. */
  #retryWords(): string {
    if (this.#exiting) return "not retried: the daemon is stopping";
    return this.#idling ? `retrying every ${SHAPER_REFRESH_S} s while idle` : "retrying every tick";
  }

  #maybeDumpSpeedHistory(now: number): void {
    if (this.#stats === undefined || this.#controller.speedHistory === undefined) return;
    if (!(now - this.#lastDumpS > SPEED_HISTORY_PERIOD_S)) return;
    this.#lastDumpS = now;
    try {
      const h = this.#controller.speedHistory();
      this.#stats.speedHistory(now - this.#startS, h.up, h.down);
    } catch (e) {
      this.#log.error("speed-history dump failed: {error}", { error: String(e) });
    }
  }
}

/** A promise or any object with a `then` method (what `await` would wait for). */
function isThenable<T>(v: T | PromiseLike<T>): v is PromiseLike<T> {
  return typeof (v as { then?: unknown } | null)?.then === "function";
}
