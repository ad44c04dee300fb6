/**
 * Capacity traces for the simulator: how much the ISP link can carry, per direction, over
 * time. Built-in synthetic traces and CSV files (`time_s,down_kbit,up_kbit`).
 */
import { type RandomSource, seededRandom } from "../util/clock.ts";
import { percentile } from "../util/stats.ts";
import { didYouMean } from "../util/suggest.ts";
import { errorText } from "../util/error_text.ts";

/** Resolution of a sampled trace, seconds. Lookups hold the last sample (step function). */
export const TRACE_STEP_S = 0.1;

/** A capacity trace sampled every `stepS` seconds (step-hold between samples). */
export interface CapacityTrace {
  /** Display name (`step`, `lte`, … or the file name). */
  readonly name: string;
  /** Nominal "good day" capacity, kbit/s: the default base rates. */
  readonly nominal: { down: number; up: number };
  /** Sample spacing, seconds. */
  readonly stepS: number;
  /** Download capacity samples, kbit/s. */
  readonly down: Float64Array;
  /** Upload capacity samples, kbit/s. */
  readonly up: Float64Array;
}

/** Names of the built-in traces. */
export const BUILTIN_TRACES = ["step", "lte", "starlink", "cable-evening"] as const;

/** A built-in trace name. */
export type BuiltinTraceName = (typeof BUILTIN_TRACES)[number];

/** Capacity in kbit/s of one direction at time `t` (seconds); holds the last sample. */
export function capacityAt(trace: CapacityTrace, dir: "down" | "up", t: number): number {
  const arr = dir === "down" ? trace.down : trace.up;
  let i = Math.floor(t / trace.stepS);
  if (i < 0) i = 0;
  if (i >= arr.length) i = arr.length - 1;
  return arr[i];
}

/**
 * Seconds a FIFO at the trace's capacity takes from `t` to serve `bytes` (what lies ahead of a
 * packet entering it then): the capacity of each later sample applies, so a packet waits less when
 * the capacity rises behind it (the ACK path, docs/simulator.md "Load"). Infinity if it never does.
 */
export function drainS(
  trace: CapacityTrace,
  o: { dir: "down" | "up"; t: number; bytes: number },
): number {
  if (!(o.bytes > 0)) return 0;
  const arr = o.dir === "down" ? trace.down : trace.up;
  let i = Math.max(0, Math.floor(o.t / trace.stepS));
  let at = Math.max(0, o.t);
  let left = o.bytes;
  for (; i < arr.length - 1; i++) {
    const rate = arr[i] * 125;
    const end = (i + 1) * trace.stepS;
    if (rate > 0 && left <= rate * (end - at)) return at + left / rate - o.t;
    if (rate > 0) left -= rate * (end - at);
    at = end;
  }
  const last = arr[arr.length - 1] * 125;
  return last > 0 ? at + left / last - o.t : Infinity;
}

/**
 * `trace` with every sample and its nominal multiplied by `factor`: the same link shape at another
 * rate (docs/controllers.md, "Across link rates"). The ISP buffer, sized in time at the nominal,
 * scales with it.
 */
export function scaledTrace(trace: CapacityTrace, factor: number): CapacityTrace {
  if (!(factor > 0) || !Number.isFinite(factor)) {
    throw new RangeError(`trace scale ${factor}: want a finite number above 0`);
  }
  return {
    name: trace.name,
    nominal: { down: trace.nominal.down * factor, up: trace.nominal.up * factor },
    stepS: trace.stepS,
    down: trace.down.map((v) => v * factor),
    up: trace.up.map((v) => v * factor),
  };
}

/** Options for building a built-in trace. */
export interface BuiltinTraceOptions {
  /** Length of the trace, seconds. */
  durationS: number;
  /** Seed for the random parts (lte, starlink, cable-evening noise). */
  seed: number;
  /**
   * `step` and `cable-evening` repeat their shape every this many seconds (default: the run's
   * length, so the shape comes once): a run of hours then sees the drop and the sag as often as
   * a 300 s run does per 300 s (docs/simulator.md, "Long runs"). `lte` and `starlink` have no
   * run-long shape and ignore it.
   */
  periodS?: number;
}

/**
 * Builds a built-in trace.
 * - `step`: 20/5 Mbit/s; capacity halves at 1/3 of the run (or of `periodS`) and recovers at 2/3.
 * - `lte`: 30/8 Mbit/s; log-space random walk (30–120 %) with deep dips (10–30 % for 1–4 s)
 *   about every 20 s.
 * - `starlink`: 100/15 Mbit/s; the level changes every 15 s (satellite handover at
 *   :12/:27/:42/:57 s of each minute) with a 0.3–0.8 s dip to ~30 % at each handover.
 * - `cable-evening`: 100/10 Mbit/s; a slow sag to ~45 % in mid-run (or mid-period) and back, small
 *   noise.
 */
export function builtinTrace(name: BuiltinTraceName, options: BuiltinTraceOptions): CapacityTrace {
  const n = Math.max(1, Math.ceil(options.durationS / TRACE_STEP_S) + 1);
  // Each trace gets its own stream so adding a trace never changes the others.
  const random = seededRandom(options.seed * 7919 + name.length * 104729 + 17);
  const period = options.periodS;
  if (period !== undefined && !(period > 0 && Number.isFinite(period))) {
    throw new RangeError(`trace period ${period}: want a finite number of seconds above 0`);
  }
  /** Time within the shape's period (the run itself without `periodS`). */
  const phase = period === undefined ? (t: number) => t : (t: number) => t % period;
  const shapeS = period ?? options.durationS;
  switch (name) {
    case "step":
      return stepTrace(n, { shapeS, phase });
    case "lte":
      return lteTrace(n, random);
    case "starlink":
      return starlinkTrace(n, random);
    case "cable-evening":
      return cableTrace(n, { shapeS, phase, random });
  }
}

/** The length of a trace's shape, s, and the time within it of a time of the run. */
interface Shape {
  shapeS: number;
  phase: (t: number) => number;
}

function stepTrace(n: number, shape: Shape): CapacityTrace {
  const nominal = { down: 20_000, up: 5_000 };
  const down = new Float64Array(n);
  const up = new Float64Array(n);
  const dropAt = shape.shapeS / 3;
  const recoverAt = (2 * shape.shapeS) / 3;
  for (let i = 0; i < n; i++) {
    const t = shape.phase(i * TRACE_STEP_S);
    const f = t >= dropAt && t < recoverAt ? 0.5 : 1;
    down[i] = nominal.down * f;
    up[i] = nominal.up * f;
  }
  return { name: "step", nominal, stepS: TRACE_STEP_S, down, up };
}

function lteTrace(n: number, random: RandomSource): CapacityTrace {
  const nominal = { down: 30_000, up: 8_000 };
  const down = new Float64Array(n);
  const up = new Float64Array(n);
  let levelDown = 0;
  let levelUp = 0;
  let dipLeft = 0;
  let dipFactor = 1;
  for (let i = 0; i < n; i++) {
    // Random walk of log(capacity), pulled gently back to nominal, limited to 30–120 %.
    levelDown = clamp(levelDown * 0.995 + (random() - 0.5) * 0.08, Math.log(0.3), Math.log(1.2));
    levelUp = clamp(levelUp * 0.995 + (random() - 0.5) * 0.08, Math.log(0.3), Math.log(1.2));
    if (dipLeft <= 0 && random() < TRACE_STEP_S / 20) {
      dipLeft = Math.round((1 + random() * 3) / TRACE_STEP_S);
      dipFactor = 0.1 + random() * 0.2;
    }
    const f = dipLeft > 0 ? dipFactor : 1;
    if (dipLeft > 0) dipLeft--;
    down[i] = nominal.down * Math.exp(levelDown) * f;
    up[i] = nominal.up * Math.exp(levelUp) * f;
  }
  return { name: "lte", nominal, stepS: TRACE_STEP_S, down, up };
}

function starlinkTrace(n: number, random: RandomSource): CapacityTrace {
  const nominal = { down: 100_000, up: 15_000 };
  const down = new Float64Array(n);
  const up = new Float64Array(n);
  let slot = -1;
  let levelDown = 1;
  let levelUp = 1;
  let dipEnd = -1;
  for (let i = 0; i < n; i++) {
    const t = i * TRACE_STEP_S;
    // Handovers at :12, :27, :42, :57 of each minute, i.e. every 15 s from t = 12 s.
    const s = Math.floor((t + 3) / 15);
    if (s !== slot) {
      slot = s;
      levelDown = 0.6 + random() * 0.4;
      levelUp = 0.5 + random() * 0.5;
      if (s > 0) dipEnd = t + 0.3 + random() * 0.5;
    }
    const dip = t < dipEnd ? 0.3 : 1;
    const noise = 1 + (random() - 0.5) * 0.06;
    down[i] = nominal.down * levelDown * dip * noise;
    up[i] = nominal.up * levelUp * dip * noise;
  }
  return { name: "starlink", nominal, stepS: TRACE_STEP_S, down, up };
}

function cableTrace(
  n: number,
  o: Shape & { random: RandomSource },
): CapacityTrace {
  const { random } = o;
  const nominal = { down: 100_000, up: 10_000 };
  const down = new Float64Array(n);
  const up = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = o.phase(i * TRACE_STEP_S);
    const s = Math.sin((Math.PI * t) / Math.max(o.shapeS, 1));
    const sag = 1 - 0.55 * s * s;
    down[i] = nominal.down * sag * (1 + (random() - 0.5) * 0.04);
    up[i] = nominal.up * (1 - 0.3 * s * s) * (1 + (random() - 0.5) * 0.04);
  }
  return { name: "cable-evening", nominal, stepS: TRACE_STEP_S, down, up };
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/** A CSV trace had bad lines; `problems` lists each as `<source>:<line>: <reason>`. */
export class TraceParseError extends Error {
  /** One message per bad line. */
  readonly problems: string[];
  /** Builds the error from the list of problems. */
  constructor(source: string, problems: string[]) {
    super(`bad capacity trace ${source}:\n  ${problems.join("\n  ")}`);
    this.name = "TraceParseError";
    this.problems = problems;
  }
}

/**
 * Parses a CSV trace: a header `time_s,down_kbit,up_kbit` (required), then one row per point,
 * times strictly increasing from ≥ 0, capacities > 0 (kbit/s). Blank lines and lines starting
 * with `#` are skipped. Each point holds until the next; the last holds to the end. The
 * nominal capacity is the 95th percentile of each column. Throws `TraceParseError` listing
 * every bad line.
 */
export function parseTraceCsv(
  text: string,
  options: { source?: string; durationS?: number } = {},
): CapacityTrace {
  const source = options.source ?? "<csv>";
  const lines = text.split(/\r?\n/);
  const problems: string[] = [];
  const points: { t: number; down: number; up: number }[] = [];
  let sawHeader = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    const where = `${source}:${i + 1}`;
    if (line === "" || line.startsWith("#")) continue;
    const fields = line.split(",").map((f) => f.trim());
    if (!sawHeader) {
      sawHeader = true;
      if (fields.join(",").toLowerCase() !== "time_s,down_kbit,up_kbit") {
        problems.push(`${where}: expected header "time_s,down_kbit,up_kbit", got "${line}"`);
        if (fields.length === 3 && fields.every((f) => f !== "" && Number.isFinite(Number(f)))) {
          continue; // a data row where the header should be: reported, not parsed
        }
      }
      continue;
    }
    if (fields.length !== 3) {
      problems.push(`${where}: expected 3 fields, got ${fields.length}: "${line}"`);
      continue;
    }
    const [t, down, up] = fields.map(Number);
    if (fields.some((f) => f === "") || ![t, down, up].every(Number.isFinite)) {
      problems.push(`${where}: not a number: "${line}"`);
      continue;
    }
    if (t < 0) {
      problems.push(`${where}: time_s must be >= 0, got ${t}`);
      continue;
    }
    if (down <= 0 || up <= 0) {
      problems.push(`${where}: capacities must be > 0 kbit/s: "${line}"`);
      continue;
    }
    const prev = points[points.length - 1];
    if (prev !== undefined && t <= prev.t) {
      problems.push(`${where}: time_s ${t} is not after the previous ${prev.t}`);
      continue;
    }
    points.push({ t, down, up });
  }
  if (!sawHeader) problems.push(`${source}: empty file (header "time_s,down_kbit,up_kbit" needed)`);
  else if (points.length === 0 && problems.length === 0) {
    problems.push(`${source}: no data rows after the header`);
  }
  if (problems.length > 0) throw new TraceParseError(source, problems);
  const lastT = points[points.length - 1].t;
  const durationS = Math.max(options.durationS ?? 0, lastT);
  const n = Math.ceil(durationS / TRACE_STEP_S) + 1;
  const down = new Float64Array(n);
  const up = new Float64Array(n);
  let j = 0;
  for (let i = 0; i < n; i++) {
    const t = i * TRACE_STEP_S + 1e-9;
    while (j + 1 < points.length && points[j + 1].t <= t) j++;
    down[i] = points[j].down;
    up[i] = points[j].up;
  }
  const name = source.replace(/^.*[\\/]/, "");
  return {
    name,
    nominal: {
      down: Math.round(percentile(points.map((p) => p.down), 95)),
      up: Math.round(percentile(points.map((p) => p.up), 95)),
    },
    stepS: TRACE_STEP_S,
    down,
    up,
  };
}

/** Loads a trace by built-in name or CSV file path. */
export async function loadTrace(
  nameOrPath: string,
  options: BuiltinTraceOptions,
): Promise<CapacityTrace> {
  if ((BUILTIN_TRACES as readonly string[]).includes(nameOrPath)) {
    return builtinTrace(nameOrPath as BuiltinTraceName, options);
  }
  let text: string;
  try {
    text = await Deno.readTextFile(nameOrPath);
  } catch (e) {
    const builtins = BUILTIN_TRACES.join(", ");
    // A misspelt name (`lte5`) is not a file the user meant: say which name, not why it cannot be read.
    const hint = nameOrPath.includes("/") ? "" : didYouMean(nameOrPath, BUILTIN_TRACES);
    if (hint !== "") {
      throw new Error(`trace "${nameOrPath}" is not a built-in (${builtins})${hint}`);
    }
    throw new Error(
      `trace "${nameOrPath}" is neither a built-in (${builtins}) nor a readable CSV file: ` +
        errorText(e),
    );
  }
  return parseTraceCsv(text, { source: nameOrPath, durationS: options.durationS });
}
