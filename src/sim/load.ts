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
  "day",
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
 * - `day`: a household's day in hours of virtual time, whatever the run's length ({@link DAY_HOURS};
 *   repeats every 24 h): nights and parts of the day idle (the daemon's idle mode), bursty
 *   browsing, a download and saturated stretches both ways. For runs of many hours
 *   (docs/simulator.md, "Long runs").
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
    case "day":
      return dayPlan(d, random);
  }
}

/** What one hour of the `day` profile carries in one direction. */
export type DayHourLoad = "idle" | "bursty" | "tcp";

/**
 * The `day` profile, hour by hour from midnight (download, upload): idle 00–07, bursts 07–09,
 * idle 09–12, bursts 12–13, TCP both ways 13–14, idle 14–17, bursts 17–18, a download with the
 * upload idle 18–19, bursts 19–20, TCP both ways 20–21, bursts 21–22, TCP both ways 22–23, idle
 * 23–24.
 */
export const DAY_HOURS: readonly (readonly [DayHourLoad, DayHourLoad])[] = [
  ...Array.from({ length: 7 }, () => ["idle", "idle"] as const),
  ["bursty", "bursty"],
  ["bursty", "bursty"],
  ["idle", "idle"],
  ["idle", "idle"],
  ["idle", "idle"],
  ["bursty", "bursty"],
  ["tcp", "tcp"],
  ["idle", "idle"],
  ["idle", "idle"],
  ["idle", "idle"],
  ["bursty", "bursty"],
  ["tcp", "idle"],
  ["bursty", "bursty"],
  ["tcp", "tcp"],
  ["bursty", "bursty"],
  ["tcp", "tcp"],
  ["idle", "idle"],
];

function dayPlan(durationS: number, random: RandomSource): LoadPlan {
  const down: LoadSegment[] = [];
  const up: LoadSegment[] = [];
  for (let h = 0; h * 3600 < durationS; h++) {
    const [dl, ul] = DAY_HOURS[h % 24];
    const start = h * 3600, end = Math.min(durationS, start + 3600);
    for (const [kind, out] of [[dl, down], [ul, up]] as const) {
      if (kind === "tcp") out.push(tcp(start, end));
      else if (kind === "bursty") out.push(...bursts(start, end, random));
    }
  }
  return { name: "day", down: merged(down), up: merged(up) };
}

/** Joins touching TCP segments (a TCP hour after a TCP hour is one load period, not two). */
function merged(segments: LoadSegment[]): LoadSegment[] {
  const out: LoadSegment[] = [];
  for (const s of segments) {
    const last = out[out.length - 1];
    if (last !== undefined && last.kind === s.kind && last.end === s.start && s.kind === "tcp") {
      last.end = s.end;
    } else out.push({ ...s });
  }
  return out;
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
