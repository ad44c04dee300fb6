/**
 * Summary metrics of a simulated run, per direction, and the down-sampled time series used
 * for plots.
 */
import type { CapacityTrace } from "./trace.ts";
import { mean, median, percentileOfSorted } from "../util/stats.ts";

/** Period of the plot series, seconds. */
export const SERIES_STEP_S = 0.1;
/** A capacity drop: capacity below this fraction of its maximum over the last second. */
const DROP_FRACTION = 0.75;
/** Drops (and rises) closer together than this count as one, seconds. */
const DROP_MERGE_S = 2;
/** A capacity rise: capacity above its minimum over the last second by more than this factor. */
const RISE_FACTOR = 1 / DROP_FRACTION;
/** Delay must stay under the threshold this long to count as recovered, seconds. */
const RECOVERED_HOLD_S = 1;
/** Ramp-up is reached when the delivered throughput is at least this share of capacity… */
const RAMPUP_SHARE = 0.9;
/** …over a window this long (so one lucky step does not count), seconds. */
const RAMPUP_WINDOW_S = 0.5;

/** Metrics of one direction. Delay figures are `null` when the direction was never loaded. */
export interface DirectionSummary {
  /** Seconds during which the direction carried load. */
  loadedS: number;
  /** Added (queueing) delay under load, median, ms. */
  p50DelayMs: number | null;
  /** Added delay under load, 95th percentile, ms. */
  p95DelayMs: number | null;
  /** Added delay under load, 99th percentile, ms. */
  p99DelayMs: number | null;
  /** Delivered / capacity while loaded, %. */
  utilisationPct: number | null;
  /** Share of loaded time with added delay above the threshold, %. */
  aboveThresholdPct: number | null;
  /** Delay threshold used, ms. */
  thresholdMs: number;
  /**
   * Per capacity drop while loaded: seconds until the delay is back under the threshold (null:
   * not before the next drop or the end of the run).
   */
  recoveriesS: (number | null)[];
  /** Worst recovery among the drops that recovered, s (null: none did). */
  maxRecoveryS: number | null;
  /** Drops after which the delay never got back under the threshold before the run ended. */
  unrecoveredDrops: number;
  /**
   * Worst recovery, s, an unrecovered drop counting as the time it was given (to the next drop
   * or the end of the run: a lower bound); null: no drop under load.
   */
  worstRecoveryS: number | null;
  /**
   * Per load start (idle → loaded): seconds until the delivered throughput first reaches 90 % of
   * the capacity over a 0.5 s window inside the load period (the time to the window's start);
   * null when the load period ended before that.
   */
  rampupsS: (number | null)[];
  /** Median ramp-up, s; an unreached one counts as its load period's length (a lower bound). */
  medianRampupS: number | null;
  /** Worst ramp-up, s; an unreached one counts as its load period's length (a lower bound). */
  maxRampupS: number | null;
  /** Load starts after which 90 % of capacity was never reached before the load stopped. */
  unreachedRampups: number;
  /**
   * Per capacity rise while loaded (the capacity above its minimum of the last second by a third
   * or more): seconds until the delivered throughput first reaches 90 % of the capacity over a
   * 0.5 s window, as for ramp-up; null when the next rise, drop or the load's end came first.
   */
  climbsS: (number | null)[];
  /** Mean climb, s; an unreached one counts as the time it had (a lower bound); null: no rise. */
  meanClimbS: number | null;
  /** Worst climb, s, counted the same way; null: no rise under load. */
  maxClimbS: number | null;
  /** Rises after which 90 % of capacity was not reached in the time they had. */
  unreachedClimbs: number;
  /** Number of shaper rate changes. */
  rateChanges: number;
}

/** Plot series of one direction, one point every `SERIES_STEP_S`. */
export interface DirectionSeries {
  /** Capacity, kbit/s. */
  capacity: Float32Array;
  /** Shaper rate, kbit/s (NaN = no shaper). */
  shaper: Float32Array;
  /** Delivered throughput, kbit/s. */
  throughput: Float32Array;
  /** Largest added delay seen in the interval, ms. */
  delay: Float32Array;
  /** 1 when the direction was loaded. */
  loaded: Uint8Array;
}

/** Records one direction, one sample per simulation step. */
export class DirectionRecorder {
  readonly #dt: number;
  readonly #thresholdMs: number;
  #n = 0;
  #delay: Float32Array;
  #loaded: Uint8Array;
  /** Capacity (bytes per step) and delivered bytes per step, for ramp-up. */
  #capBytes: Float32Array;
  #delivered: Float32Array;
  #capBytesLoaded = 0;
  #deliveredLoaded = 0;
  #rateChanges = 0;
  #lastRate = NaN;
  /** Plot series. */
  readonly series: DirectionSeries;
  #perSeries: number;
  #acc = { delivered: 0, delayMax: 0, k: 0 };

  /** `steps` = number of simulation steps, `dt` = step length, s. */
  constructor(options: { steps: number; dt: number; thresholdMs: number }) {
    this.#dt = options.dt;
    this.#thresholdMs = options.thresholdMs;
    this.#delay = new Float32Array(options.steps);
    this.#loaded = new Uint8Array(options.steps);
    this.#capBytes = new Float32Array(options.steps);
    this.#delivered = new Float32Array(options.steps);
    this.#perSeries = Math.max(1, Math.round(SERIES_STEP_S / options.dt));
    const m = Math.ceil(options.steps / this.#perSeries);
    this.series = {
      capacity: new Float32Array(m),
      shaper: new Float32Array(m),
      throughput: new Float32Array(m),
      delay: new Float32Array(m),
      loaded: new Uint8Array(m),
    };
  }

  /** Records one step. */
  record(
    loaded: boolean,
    delayMs: number,
    capacityKbit: number,
    deliveredBytes: number,
    shaperKbit: number,
  ): void {
    const i = this.#n++;
    if (i >= this.#delay.length) return;
    this.#delay[i] = delayMs;
    this.#loaded[i] = loaded ? 1 : 0;
    this.#capBytes[i] = capacityKbit * 125 * this.#dt;
    this.#delivered[i] = deliveredBytes;
    if (loaded) {
      this.#capBytesLoaded += capacityKbit * 125 * this.#dt;
      this.#deliveredLoaded += deliveredBytes;
    }
    if (
      shaperKbit !== this.#lastRate && !(Number.isNaN(shaperKbit) && Number.isNaN(this.#lastRate))
    ) {
      if (i > 0) this.#rateChanges++;
      this.#lastRate = shaperKbit;
    }
    const acc = this.#acc;
    acc.delivered += deliveredBytes;
    if (delayMs > acc.delayMax) acc.delayMax = delayMs;
    acc.k++;
    if (acc.k === this.#perSeries) {
      const j = (i / this.#perSeries) | 0;
      const s = this.series;
      s.capacity[j] = capacityKbit;
      s.shaper[j] = shaperKbit === Infinity ? NaN : shaperKbit;
      s.throughput[j] = (acc.delivered * 8) / 1000 / (acc.k * this.#dt);
      s.delay[j] = acc.delayMax;
      s.loaded[j] = loaded ? 1 : 0;
      acc.delivered = 0;
      acc.delayMax = 0;
      acc.k = 0;
    }
  }

  /** Computes the summary; `capacity` is the direction's trace (drop detection). */
  summary(trace: CapacityTrace, dir: "down" | "up"): DirectionSummary {
    const n = Math.min(this.#n, this.#delay.length);
    const loadedDelays: number[] = [];
    let above = 0;
    for (let i = 0; i < n; i++) {
      if (this.#loaded[i] === 0) continue;
      loadedDelays.push(this.#delay[i]);
      if (this.#delay[i] > this.#thresholdMs) above++;
    }
    const sorted = Float64Array.from(loadedDelays).sort();
    const drops = this.#recoveries(trace, dir, n);
    const recoveries = drops.map((r) => r.s);
    const finite = recoveries.filter((r): r is number => r !== null);
    const any = sorted.length > 0;
    const rampups = this.#rampups(n);
    const bounded = rampups.map((r) => r.s ?? r.loadedS);
    const climbs = this.#climbs(trace, dir, n);
    const climbBounded = climbs.map((c) => c.s ?? c.givenS);
    return {
      loadedS: round(sorted.length * this.#dt, 2),
      p50DelayMs: any ? round(percentileOfSorted(sorted, 50), 2) : null,
      p95DelayMs: any ? round(percentileOfSorted(sorted, 95), 2) : null,
      p99DelayMs: any ? round(percentileOfSorted(sorted, 99), 2) : null,
      utilisationPct: this.#capBytesLoaded > 0
        ? round((100 * this.#deliveredLoaded) / this.#capBytesLoaded, 2)
        : null,
      aboveThresholdPct: any ? round((100 * above) / sorted.length, 2) : null,
      thresholdMs: this.#thresholdMs,
      recoveriesS: recoveries.map((r) => (r === null ? null : round(r, 2))),
      maxRecoveryS: finite.length === 0 ? null : round(Math.max(...finite), 2),
      unrecoveredDrops: recoveries.length - finite.length,
      worstRecoveryS: drops.length === 0
        ? null
        : round(Math.max(...drops.map((r) => r.s ?? r.givenS)), 2),
      rampupsS: rampups.map((r) => (r.s === null ? null : round(r.s, 2))),
      medianRampupS: bounded.length === 0 ? null : round(median(bounded), 2),
      maxRampupS: bounded.length === 0 ? null : round(Math.max(...bounded), 2),
      unreachedRampups: rampups.filter((r) => r.s === null).length,
      climbsS: climbs.map((c) => (c.s === null ? null : round(c.s, 2))),
      meanClimbS: climbBounded.length === 0 ? null : round(mean(climbBounded), 2),
      maxClimbS: climbBounded.length === 0 ? null : round(Math.max(...climbBounded), 2),
      unreachedClimbs: climbs.filter((c) => c.s === null).length,
      rateChanges: this.#rateChanges,
    };
  }

  /** Prefix sums of capacity and delivered bytes, so each window is O(1). */
  #prefixSums(n: number): { cap: Float64Array; got: Float64Array } {
    const cap = new Float64Array(n + 1);
    const got = new Float64Array(n + 1);
    for (let i = 0; i < n; i++) {
      cap[i + 1] = cap[i] + this.#capBytes[i];
      got[i + 1] = got[i] + this.#delivered[i];
    }
    return { cap, got };
  }

  /**
   * Seconds from step `start` to the first 0.5 s window inside [start, end) whose delivered
   * bytes reach 90 % of its capacity; null if none does.
   */
  #reached(sums: { cap: Float64Array; got: Float64Array }, start: number, end: number) {
    const w = Math.max(1, Math.round(RAMPUP_WINDOW_S / this.#dt));
    for (let j = start; j + w <= end; j++) {
      if (sums.got[j + w] - sums.got[j] >= RAMPUP_SHARE * (sums.cap[j + w] - sums.cap[j])) {
        return (j - start) * this.#dt;
      }
    }
    return null;
  }

  /** Ramp-up after each load start, with the load period's length (for unreached ones). */
  #rampups(n: number): { s: number | null; loadedS: number }[] {
    const sums = this.#prefixSums(n);
    const out: { s: number | null; loadedS: number }[] = [];
    let i = 0;
    while (i < n) {
      if (this.#loaded[i] === 0) {
        i++;
        continue;
      }
      const start = i;
      while (i < n && this.#loaded[i] === 1) i++;
      const end = i; // exclusive
      out.push({ s: this.#reached(sums, start, end), loadedS: (end - start) * this.#dt });
    }
    return out;
  }

  /**
   * Climb after each capacity rise under load, with the time it had (to the next rise or drop
   * or the load's end; for unreached ones).
   */
  #climbs(
    trace: CapacityTrace,
    dir: "down" | "up",
    n: number,
  ): { s: number | null; givenS: number }[] {
    const rises = this.#changes(trace, dir, n, "rise");
    const bounds = [...rises, ...this.#changes(trace, dir, n, "drop")].sort((a, b) => a - b);
    const sums = this.#prefixSums(n);
    const out: { s: number | null; givenS: number }[] = [];
    for (const start of rises) {
      if (this.#loaded[start] === 0) continue;
      let end = bounds.find((b) => b > start) ?? n;
      for (let i = start; i < end; i++) {
        if (this.#loaded[i] === 0) {
          end = i;
          break;
        }
      }
      out.push({ s: this.#reached(sums, start, end), givenS: (end - start) * this.#dt });
    }
    return out;
  }

  /**
   * Steps at which the capacity drops (below 75 % of its maximum over the last second) or rises
   * (above its minimum over the last second by a third); changes closer together than 2 s count
   * as one.
   */
  #changes(trace: CapacityTrace, dir: "down" | "up", n: number, kind: "drop" | "rise"): number[] {
    const cap = dir === "down" ? trace.down : trace.up;
    const window = Math.round(1 / trace.stepS);
    const endS = n * this.#dt;
    const out: number[] = [];
    let last = -Infinity;
    for (let i = 1; i < cap.length && i * trace.stepS < endS; i++) {
      let lo = Infinity, hi = 0;
      for (let k = Math.max(0, i - window); k < i; k++) {
        if (cap[k] > hi) hi = cap[k];
        if (cap[k] < lo) lo = cap[k];
      }
      const t = i * trace.stepS;
      const changed = kind === "drop" ? cap[i] < DROP_FRACTION * hi : cap[i] > RISE_FACTOR * lo;
      if (!changed || t - last < DROP_MERGE_S) continue;
      last = t;
      const step = Math.round(t / this.#dt);
      if (step < n) out.push(step);
    }
    return out;
  }

  /** Recovery after each drop under load, with the time it was given (for unrecovered ones). */
  #recoveries(
    trace: CapacityTrace,
    dir: "down" | "up",
    n: number,
  ): { s: number | null; givenS: number }[] {
    const drops = this.#changes(trace, dir, n, "drop");
    const out: { s: number | null; givenS: number }[] = [];
    for (let d = 0; d < drops.length; d++) {
      if (this.#loaded[drops[d]] === 0) continue;
      // A drop must be recovered from before the next one (or the end of the run).
      const end = d + 1 < drops.length ? drops[d + 1] : n;
      out.push({ s: this.#recoveryFrom(drops[d], end), givenS: (end - drops[d]) * this.#dt });
    }
    return out;
  }

  /**
   * Seconds from step `start` until the delay is under the threshold and stays there for the
   * hold time; null if that does not happen before step `end`. Being under the threshold from
   * some point up to `end` (shorter than the hold time) counts as recovered at that point.
   */
  #recoveryFrom(start: number, end: number): number | null {
    const hold = Math.round(RECOVERED_HOLD_S / this.#dt);
    let runStart = start;
    for (let i = start; i < end; i++) {
      if (this.#delay[i] > this.#thresholdMs) runStart = i + 1;
      else if (i + 1 - runStart >= hold) return (runStart - start) * this.#dt;
    }
    return runStart < end ? (runStart - start) * this.#dt : null;
  }
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
