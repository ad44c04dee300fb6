/**
 * The daemon's live figures for `/metrics`, the live page and MQTT: a `ControlObserver` that
 * keeps counters, the latest values and the last ten minutes of ticks in fixed-size rings, plus
 * read-only views of other stages (reflector state, pinger, plugins) asked at read time. Pure
 * bookkeeping: no I/O, no timers; one tick costs a few array writes (docs/observability.md).
 */
import { defaultValue } from "../config/defaults.ts";
import type { ControlObserver, OwdState, TickEvent } from "../control/ports.ts";

/** Upper bounds (s) of the tick-duration histogram buckets. */
export const TICK_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/** Seconds of history kept for the live page. */
export const HISTORY_S = 600;

/** Window over which a reflector's loss is estimated, s. */
const LOSS_WINDOW_S = 10;

/**
 * A reflector that is no longer a peer is listed while its last reply is at most one reselection
 * period old (the candidates of the last cycle), s: `peer_reselection_time`'s default unless the
 * sources give the setting in force. The baselines keep every reflector ever probed, which after
 * an hour is most of the pool (~300 of the embedded list) and made each scrape ~140 kB
 * (docs/footprint.md, "Long runs").
 */
export const EARLIER_REFLECTORS_S = Number(defaultValue("peer_reselection_time")) * 60;

/**
 * A change of the wall clock against the monotonic one between two ticks larger than this, s, is
 * a step (NTP on a router without a real-time clock): the live page then reloads its history.
 */
export const CLOCK_STEP_S = 1;

/**
 * How long ticks without readings (hold, no-deltas) keep the last measured throughput, load and
 * delay on show, s. A blip of a few ticks keeps the figures steady; an outage longer than this
 * shows them as unknown (`NaN`; MQTT `null`), not as the numbers of its first second for an hour
 * (docs/observability.md, "How the figures are collected").
 */
export const STALE_AFTER_S = 10;

/** Views of other stages, read when figures are requested (not per tick). */
export interface TelemetrySources {
  /** The shared measurement state (baselines, recent values, peers). */
  owd?: OwdState;
  /** Pinger child processes started so far. */
  pingerStarts?: () => number;
  /** Lua plugin failures so far and the plugins disabled. */
  plugins?: () => { errors: number; disabled: readonly string[] };
  /**
   * The process's memory (`Deno.memoryUsage()`: resident set, V8 heap used and total, external),
   * bytes; read once per snapshot, ~13 µs.
   */
  memory?: () => Deno.MemoryUsage;
  /** Monotonic seconds (for reply ages and loss windows). */
  monotonicS?: () => number;
  /** Ping period per reflector, s (for the expected reply count). */
  tickIntervalS?: number;
  /** The reselection period in force, s (default `EARLIER_REFLECTORS_S`). */
  reselectionS?: number;
}

/** One direction's latest values. */
export interface DirectionNow {
  /** Shaper rate in force, kbit/s. */
  rateKbit: number;
  /** Achieved throughput, kbit/s (NaN before the first normal tick). */
  throughputKbit: number;
  /** Load ratio. */
  load: number;
  /** Delay statistic, ms. */
  delayMs: number;
  /** Delay threshold in force, ms. */
  thresholdMs: number;
}

/** Per-reflector figures. */
export interface ReflectorFigures {
  /** Address. */
  ip: string;
  /** Currently pinged. */
  active: boolean;
  /** Baseline (slow EWMA) one-way delays, ms. */
  baseline?: { up: number; down: number };
  /** Recent (fast EWMA) one-way delays, ms. */
  recent?: { up: number; down: number };
  /** Replies counted since start. */
  replies: number;
  /** Loss over the last LOSS_WINDOW_S, 0–1; absent until the reflector was active that long. */
  loss?: number;
}

/** Everything `/metrics` shows, as one consistent snapshot. */
export interface TelemetrySnapshot {
  /** Ticks seen. */
  ticks: number;
  /** Wall-clock ms of the last tick (0 before the first). */
  lastTickWallMs: number;
  /** Download and upload. */
  dl: DirectionNow;
  /** Upload. */
  ul: DirectionNow;
  /** Fresh reflectors in the last tick. */
  fresh: number;
  /** Decisions by path. */
  decisions: Record<TickEvent["path"], number>;
  /** Failed shaper changes by direction. */
  tcFailures: { dl: number; ul: number };
  /** Ticks with unreadable byte counters. */
  counterFailures: number;
  /** Controller failures (threw or returned an invalid rate). */
  controllerFailures: number;
  /** Adjuster (plugin host) failures seen by the loop plus Lua plugin failures. */
  luaErrors: number;
  /** Plugins disabled for failing. */
  pluginsDisabled: number;
  /** Reflector set changes seen. */
  reselections: number;
  /** Pinger child processes started. */
  pingerStarts: number;
  /** Tick durations: cumulative counts per TICK_BUCKETS_S bound, then sum and count. */
  tickDuration: { buckets: number[]; sumS: number; count: number };
  /** Per reflector (active first). */
  reflectors: ReflectorFigures[];
  /**
   * The process's memory, bytes (each NaN when unknown): resident set; the main isolate's V8 heap
   * used and reserved; memory outside it held by JS objects (buffers).
   */
  memory: Deno.MemoryUsage;
}

/** The history ring's columns, oldest first, as the live page draws them. */
export interface TelemetryHistory {
  /**
   * Wall-clock seconds: each tick's monotonic time on the wall clock as the last tick read it,
   * so always ascending and spaced by the time that passed, across wall-clock steps.
   */
  t: number[];
  /** Download shaper rate, kbit/s. */
  dlRate: number[];
  /** Upload shaper rate, kbit/s. */
  ulRate: number[];
  /** Download throughput, kbit/s (null on ticks without readings). */
  dlThroughput: (number | null)[];
  /** Upload throughput, kbit/s. */
  ulThroughput: (number | null)[];
  /** Download delay statistic, ms. */
  dlDelay: (number | null)[];
  /** Upload delay statistic, ms. */
  ulDelay: (number | null)[];
}

type Column = (typeof HISTORY_COLUMNS)[number];

const HISTORY_COLUMNS = [
  "dlRate",
  "ulRate",
  "dlThroughput",
  "ulThroughput",
  "dlDelay",
  "ulDelay",
] as const;

const UNKNOWN_MEMORY: Deno.MemoryUsage = { rss: NaN, heapTotal: NaN, heapUsed: NaN, external: NaN };

function emptyDirection(): DirectionNow {
  return { rateKbit: 0, throughputKbit: NaN, load: NaN, delayMs: NaN, thresholdMs: NaN };
}

/** Collects figures from tick events and replies. */
export class Telemetry implements ControlObserver {
  readonly #src: TelemetrySources;
  readonly #cap: number;
  /** Monotonic s of each tick in the ring. */
  readonly #mono: Float64Array;
  /** Wall minus monotonic clock at the last tick, s; and the steps of it seen. */
  #wallOffsetS = 0;
  #clockSteps = 0;
  readonly #cols: Record<Column, Float64Array>;
  #head = 0;
  #size = 0;
  #ticks = 0;
  #lastWallMs = 0;
  #dl = emptyDirection();
  #ul = emptyDirection();
  #fresh = 0;
  /** Monotonic s of the last tick with readings. */
  #measuredS = -Infinity;
  readonly #decisions = { normal: 0, hold: 0, "no-deltas": 0, idle: 0 };
  readonly #tc = { dl: 0, ul: 0 };
  #counterFailures = 0;
  #controllerFailures = 0;
  #adjusterFailures = 0;
  #reselections = 0;
  #peers: readonly string[] | undefined;
  readonly #peerSince = new Map<string, number>();
  readonly #buckets = new Array<number>(TICK_BUCKETS_S.length).fill(0);
  #durSum = 0;
  readonly #replies = new Map<string, number>();
  /**
   * Receive times of the replies in the loss window, per peer: dropped when a reflector leaves the
   * peers (its loss is shown only while it is one, from a window started when it joined), else
   * each reflector ever followed would keep up to 200 times (docs/footprint.md, "Long runs").
   */
  readonly #recent = new Map<string, number[]>();

  /** `historyTicks`: ring size (default: 10 minutes at 2 ticks/s). */
  constructor(sources: TelemetrySources = {}, options: { historyTicks?: number } = {}) {
    this.#src = sources;
    this.#cap = options.historyTicks ?? 1200;
    this.#mono = new Float64Array(this.#cap);
    this.#cols = Object.fromEntries(
      HISTORY_COLUMNS.map((c) => [c, new Float64Array(this.#cap)]),
    ) as Record<Column, Float64Array>;
  }

  /** Records one tick (ControlObserver). */
  onTick(e: TickEvent): void {
    this.#ticks++;
    this.#lastWallMs = e.wallMs;
    const offset = e.wallMs / 1000 - e.monotonicS;
    if (this.#ticks > 1 && Math.abs(offset - this.#wallOffsetS) > CLOCK_STEP_S) this.#clockSteps++;
    this.#wallOffsetS = offset;
    this.#decisions[e.path]++;
    if (e.shaperFailures.dl) this.#tc.dl++;
    if (e.shaperFailures.ul) this.#tc.ul++;
    if (e.counterFailure) this.#counterFailures++;
    if (e.controllerFailure) this.#controllerFailures++;
    this.#adjusterFailures += e.adjusterFailures;
    this.#fresh = e.fresh;
    const r = e.readings;
    // A hold or no-deltas tick keeps the last measured values on show for STALE_AFTER_S; in idle
    // mode nothing is measured (no pings), so they are unknown rather than stale.
    if (r !== undefined) this.#measuredS = e.monotonicS;
    const keep = e.path !== "idle" && e.monotonicS - this.#measuredS <= STALE_AFTER_S;
    const last = (now: number | undefined, before: number) => now ?? (keep ? before : NaN);
    this.#dl = {
      rateKbit: e.dlRate,
      thresholdMs: e.dlThresholdMs,
      throughputKbit: last(r?.dlThroughput, this.#dl.throughputKbit),
      load: last(r?.rxLoad, this.#dl.load),
      delayMs: last(r?.dlDelayMs, this.#dl.delayMs),
    };
    this.#ul = {
      rateKbit: e.ulRate,
      thresholdMs: e.ulThresholdMs,
      throughputKbit: last(r?.ulThroughput, this.#ul.throughputKbit),
      load: last(r?.txLoad, this.#ul.load),
      delayMs: last(r?.ulDelayMs, this.#ul.delayMs),
    };
    let b = 0;
    while (b < TICK_BUCKETS_S.length && e.durationS > TICK_BUCKETS_S[b]) b++;
    if (b < TICK_BUCKETS_S.length) this.#buckets[b]++;
    this.#durSum += e.durationS;
    this.#notePeers();
    // History ring.
    const i = this.#head;
    this.#mono[i] = e.monotonicS;
    this.#cols.dlRate[i] = e.dlRate;
    this.#cols.ulRate[i] = e.ulRate;
    this.#cols.dlThroughput[i] = r?.dlThroughput ?? NaN;
    this.#cols.ulThroughput[i] = r?.ulThroughput ?? NaN;
    this.#cols.dlDelay[i] = r?.dlDelayMs ?? NaN;
    this.#cols.ulDelay[i] = r?.ulDelayMs ?? NaN;
    this.#head = (i + 1) % this.#cap;
    this.#size = Math.min(this.#cap, this.#size + 1);
  }

  /** Counts one reply (wire to the measurement's reply tap). */
  onReply(reply: { reflector: string; receiveTimeS: number }): void {
    this.#replies.set(reply.reflector, (this.#replies.get(reply.reflector) ?? 0) + 1);
    let times = this.#recent.get(reply.reflector);
    if (times === undefined) this.#recent.set(reply.reflector, times = []);
    times.push(reply.receiveTimeS);
    // Bounded: never more than a window's worth at the fastest tick interval (0.05 s).
    if (times.length > LOSS_WINDOW_S / 0.05) times.shift();
  }

  /** Counts a reselection when the selector replaced the peer list since the last look. */
  #notePeers(): void {
    const owd = this.#src.owd;
    if (owd === undefined || owd.peers === this.#peers) return;
    const now = this.#src.monotonicS?.() ?? 0;
    if (this.#peers !== undefined) this.#reselections++;
    for (const ip of owd.peers) if (!this.#peerSince.has(ip)) this.#peerSince.set(ip, now);
    for (const ip of [...this.#peerSince.keys()]) {
      if (owd.peers.includes(ip)) continue;
      this.#peerSince.delete(ip);
      this.#recent.delete(ip);
    }
    this.#peers = owd.peers;
  }

  /** Reflectors whose recent reply times are kept (the peers heard since they joined; tests). */
  get recentKept(): number {
    return this.#recent.size;
  }

  /** The latest values per direction (live page, MQTT). */
  get now(): {
    dl: DirectionNow;
    ul: DirectionNow;
    fresh: number;
    ticks: number;
    lastTickWallMs: number;
    clockSteps: number;
  } {
    return {
      dl: { ...this.#dl },
      ul: { ...this.#ul },
      fresh: this.#fresh,
      ticks: this.#ticks,
      lastTickWallMs: this.#lastWallMs,
      clockSteps: this.#clockSteps,
    };
  }

  /** The last ten minutes of ticks, oldest first; `sinceS` keeps only later ones. */
  history(sinceS = -Infinity): TelemetryHistory {
    const out: TelemetryHistory = {
      t: [],
      dlRate: [],
      ulRate: [],
      dlThroughput: [],
      ulThroughput: [],
      dlDelay: [],
      ulDelay: [],
    };
    const start = (this.#head - this.#size + this.#cap) % this.#cap;
    const nullable = (v: number) => (Number.isNaN(v) ? null : v);
    for (let k = 0; k < this.#size; k++) {
      const i = (start + k) % this.#cap;
      const t = this.#mono[i] + this.#wallOffsetS;
      if (!(t > sinceS)) continue;
      out.t.push(t);
      out.dlRate.push(this.#cols.dlRate[i]);
      out.ulRate.push(this.#cols.ulRate[i]);
      out.dlThroughput.push(nullable(this.#cols.dlThroughput[i]));
      out.ulThroughput.push(nullable(this.#cols.ulThroughput[i]));
      out.dlDelay.push(nullable(this.#cols.dlDelay[i]));
      out.ulDelay.push(nullable(this.#cols.ulDelay[i]));
    }
    return out;
  }

  /** Everything, for `/metrics`. */
  snapshot(): TelemetrySnapshot {
    this.#notePeers();
    const plugins = this.#src.plugins?.();
    let cum = 0;
    const buckets = this.#buckets.map((n) => (cum += n));
    return {
      ticks: this.#ticks,
      lastTickWallMs: this.#lastWallMs,
      dl: { ...this.#dl },
      ul: { ...this.#ul },
      fresh: this.#fresh,
      decisions: { ...this.#decisions },
      tcFailures: { ...this.#tc },
      counterFailures: this.#counterFailures,
      controllerFailures: this.#controllerFailures,
      luaErrors: this.#adjusterFailures + (plugins?.errors ?? 0),
      pluginsDisabled: plugins?.disabled.length ?? 0,
      reselections: this.#reselections,
      pingerStarts: this.#src.pingerStarts?.() ?? 0,
      tickDuration: { buckets, sumS: this.#durSum, count: this.#ticks },
      reflectors: this.#reflectors(),
      memory: this.#src.memory?.() ?? UNKNOWN_MEMORY,
    };
  }

  #reflectors(): ReflectorFigures[] {
    const owd = this.#src.owd;
    if (owd === undefined) return [];
    const now = this.#src.monotonicS?.();
    const tick = this.#src.tickIntervalS;
    const active = new Set(owd.peers);
    const heardSince = now === undefined
      ? -Infinity
      : now - (this.#src.reselectionS ?? EARLIER_REFLECTORS_S);
    const earlier: string[] = [];
    for (const [ip, b] of owd.baseline) {
      if (!active.has(ip) && b.last_receive_time_s >= heardSince) earlier.push(ip);
    }
    const ips = [...owd.peers, ...earlier];
    return ips.map((ip) => {
      const b = owd.baseline.get(ip);
      const r = owd.recent.get(ip);
      const fig: ReflectorFigures = {
        ip,
        active: active.has(ip),
        baseline: b && { up: b.up_ewma, down: b.down_ewma },
        recent: r && { up: r.up_ewma, down: r.down_ewma },
        replies: this.#replies.get(ip) ?? 0,
      };
      const since = this.#peerSince.get(ip);
      if (
        fig.active && now !== undefined && tick && since !== undefined &&
        now - since >= LOSS_WINDOW_S
      ) {
        const times = this.#recent.get(ip) ?? [];
        const got = times.filter((t) => t > now - LOSS_WINDOW_S).length;
        fig.loss = Math.min(1, Math.max(0, 1 - got / (LOSS_WINDOW_S / tick)));
      }
      return fig;
    });
  }
}
