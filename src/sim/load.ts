/**
 * Traffic sources for the simulator and per-direction load profiles over time.
 */
import { type RandomSource, seededRandom } from "../util/clock.ts";
import { KBIT_TO_BYTES } from "./link.ts";

/** Bytes per full-size segment. */
const MSS = 1500;
/** Initial / restart window, segments (RFC 6928). */
const INITIAL_WINDOW = 10;
/** Multiplicative decrease on a loss event (CUBIC's beta). */
const BETA = 0.7;
/** The sender's own line rate, bytes/s (1 Gbit/s LAN/server): bounds a burst per step. */
const LINE_RATE_BYTES = 125_000_000;
/** Pacing gain over cwnd/RTT in slow start and congestion avoidance (Linux TCP pacing). */
const PACING_SLOW_START = 2;
const PACING_AVOIDANCE = 1.2;

/**
 * A saturating TCP-like aggregate of `flows` flows in fluid form: a congestion window (bytes),
 * bytes in flight, ACKs returning one base RTT after delivery. Slow start until the first loss,
 * then additive increase of `flows` segments per RTT; one multiplicative decrease per RTT on
 * drops or AQM signals. Window-limited, so growing queueing delay slows it too.
 */
export class TcpSource {
  #cwnd = INITIAL_WINDOW * MSS;
  #ssthresh = Infinity;
  #inflight = 0;
  #ring: Float64Array;
  #idx = 0;
  #lastReduce = -Infinity;
  #flows: number;
  #baseRttS: number;
  #active = false;

  /** `baseRttS` = round trip without queueing; `dt` = simulation step. */
  constructor(options: { baseRttS: number; dt: number; flows?: number }) {
    this.#ring = new Float64Array(Math.max(1, Math.round(options.baseRttS / options.dt)));
    this.#flows = options.flows ?? 4;
    this.#baseRttS = options.baseRttS;
  }

  /** Congestion window, bytes (for tests). */
  get cwnd(): number {
    return this.#cwnd;
  }

  /**
   * Processes returning ACKs and returns the bytes sent this step (0 when inactive); `rttS` is
   * the current RTT (pacing).
   */
  send(active: boolean, dt: number, rttS: number = this.#baseRttS): number {
    const acked = this.#ring[this.#idx];
    this.#ring[this.#idx] = 0;
    if (acked > 0) {
      this.#inflight = Math.max(0, this.#inflight - acked);
      if (this.#cwnd < this.#ssthresh) this.#cwnd += acked;
      else this.#cwnd += (this.#flows * MSS * acked) / this.#cwnd;
    }
    if (active && !this.#active) {
      // Restart after idle (RFC 5681 §4.1): back to the initial window and slow start.
      this.#cwnd = Math.min(this.#cwnd, INITIAL_WINDOW * MSS * this.#flows);
      this.#ssthresh = Infinity;
    }
    this.#active = active;
    if (!active) return 0;
    let send = this.#cwnd - this.#inflight;
    if (send <= 0) return 0;
    // Paced like Linux TCP, so a window is not dumped into the queue in one step.
    const gain = this.#cwnd < this.#ssthresh ? PACING_SLOW_START : PACING_AVOIDANCE;
    const paced = (gain * this.#cwnd * dt) / Math.max(rttS, this.#baseRttS);
    const max = Math.min(paced, LINE_RATE_BYTES * dt);
    if (send > max) send = max;
    this.#inflight += send;
    return send;
  }

  /**
   * Reports this step's outcome: `delivered` bytes reach the receiver (ACKed one base RTT
   * later), `dropped` bytes are lost; a loss or `signal` reduces the window at most once per
   * RTT (`rttS` = current RTT including queueing).
   */
  feedback(now: number, delivered: number, dropped: number, signal: boolean, rttS: number): void {
    this.#ring[this.#idx] += delivered;
    this.#idx = this.#idx + 1 === this.#ring.length ? 0 : this.#idx + 1;
    if (dropped > 0) this.#inflight = Math.max(0, this.#inflight - dropped);
    if ((dropped > 0 || signal) && now - this.#lastReduce > Math.max(rttS, this.#baseRttS)) {
      this.#cwnd = Math.max(2 * MSS * this.#flows, this.#cwnd * BETA);
      this.#ssthresh = this.#cwnd;
      this.#lastReduce = now;
    }
  }
}

/** What a direction's load is doing during a time segment. */
export type LoadKind = "idle" | "tcp" | "constant";

/** One piece of a load schedule. */
export interface LoadSegment {
  /** Start, seconds. */
  start: number;
  /** End (exclusive), seconds. */
  end: number;
  /** Source active during the segment. */
  kind: LoadKind;
  /** Offered rate for `constant`, kbit/s. */
  rateKbit?: number;
}

/** Names of the built-in load profiles. */
export const LOAD_PROFILES = ["saturate", "bursty", "idle", "mixed", "constant"] as const;

/** A built-in load profile name. */
export type LoadProfile = (typeof LOAD_PROFILES)[number];

/** Per-direction schedules of a load profile. */
export interface LoadPlan {
  /** Profile name. */
  readonly name: string;
  /** Download schedule (ordered, non-overlapping; gaps are idle). */
  readonly down: readonly LoadSegment[];
  /** Upload schedule. */
  readonly up: readonly LoadSegment[];
}

/**
 * Builds the schedules of a profile:
 * - `saturate`: bulk TCP both ways all the time.
 * - `bursty`: TCP on for 2–8 s, off for 1–5 s, independently per direction.
 * - `idle`: no traffic but the pings.
 * - `constant`: unresponsive constant-rate traffic at 60 % of nominal capacity.
 * - `mixed`: 15 % idle, then download TCP with upload constant 20 %, then TCP both ways,
 *   then bursts both ways (last 20 %).
 */
export function loadPlan(
  profile: LoadProfile,
  options: { durationS: number; seed: number; nominal: { down: number; up: number } },
): LoadPlan {
  const d = options.durationS;
  const random = seededRandom(options.seed * 31 + 5);
  switch (profile) {
    case "saturate":
      return { name: profile, down: [tcp(0, d)], up: [tcp(0, d)] };
    case "idle":
      return { name: profile, down: [], up: [] };
    case "constant":
      return {
        name: profile,
        down: [{ start: 0, end: d, kind: "constant", rateKbit: 0.6 * options.nominal.down }],
        up: [{ start: 0, end: d, kind: "constant", rateKbit: 0.6 * options.nominal.up }],
      };
    case "bursty":
      return { name: profile, down: bursts(0, d, random), up: bursts(0, d, random) };
    case "mixed": {
      const a = 0.15 * d, b = 0.5 * d, c = 0.8 * d;
      return {
        name: profile,
        down: [tcp(a, c), ...bursts(c, d, random)],
        up: [
          { start: a, end: b, kind: "constant", rateKbit: 0.2 * options.nominal.up },
          tcp(b, c),
          ...bursts(c, d, random),
        ],
      };
    }
  }
}

function tcp(start: number, end: number): LoadSegment {
  return { start, end, kind: "tcp" };
}

function bursts(start: number, end: number, random: RandomSource): LoadSegment[] {
  const out: LoadSegment[] = [];
  let t = start;
  while (t < end) {
    const on = 2 + random() * 6;
    out.push(tcp(t, Math.min(end, t + on)));
    t += on + 1 + random() * 4;
  }
  return out;
}

/** Walks a schedule forward in time without allocating (time must not go backwards). */
export class ScheduleCursor {
  #segments: readonly LoadSegment[];
  #i = 0;

  /** Wraps an ordered schedule. */
  constructor(segments: readonly LoadSegment[]) {
    this.#segments = segments;
  }

  /** The segment active at `t`, or undefined when idle. */
  at(t: number): LoadSegment | undefined {
    const segs = this.#segments;
    while (this.#i < segs.length && segs[this.#i].end <= t) this.#i++;
    const s = segs[this.#i];
    return s !== undefined && s.start <= t && s.kind !== "idle" ? s : undefined;
  }
}

/** Bytes a constant-rate source offers in `dt` seconds. */
export function constantBytes(rateKbit: number, dt: number): number {
  return rateKbit * KBIT_TO_BYTES * dt;
}
