/**
 * Traffic sources for the simulator and per-direction load profiles over time.
 */
import { type RandomSource, seededRandom } from "../util/clock.ts";
import { KBIT_TO_BYTES } from "./link.ts";

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
export const LOAD_PROFILES = [
  "saturate",
  "bursty",
  "idle",
  "mixed",
  "constant",
  "download",
] as const;

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
 * - `download`: bulk TCP downloads all the time, upload idle (the e2e testbed's `iperf3 -R`).
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
    case "download":
      return { name: profile, down: [tcp(0, d)], up: [] };
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
