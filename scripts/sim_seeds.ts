/**
 * A controller over many seeds, with the simulator's own noise beside it (docs/controllers.md,
 * "How much of a difference is noise"): every built-in trace × loads saturate and bursty × seeds,
 * 300 s each, default settings; prints per trace and load the median p95 added delay, the median
 * utilisation (of both directions, then of each), the median and worst of the per-seed worst
 * recovery and ramp-up, per direction the mean over the seeds of each run's mean climb after a
 * capacity rise (docs/simulator.md), the
 * median rate changes a second per direction and the median control decisions a second (each a
 * wake-up of the daemon: docs/footprint.md, "CPU under load").
 *
 * With `--null` the same runs are repeated with both base rates 1 kbit/s above and below the
 * trace's nominal capacity — a change no link could notice, which moves the controller's path
 * chaotically — and each figure is followed by the range those two runs gave: a variant whose
 * figure lies inside that band has not shown a difference.
 *
 * `--trace NAME` and `--load NAME` (each a comma list) restrict the runs; `--per-seed` follows
 * each line with one line per seed (the nominal run's p95, utilisation, worst recovery with each
 * direction's, worst and median ramp-up, load starts that never reached 90 %) and a line of the
 * load starts' figures over the seeds: which seeds make a median or a worst.
 *
 *   deno run -P=dev scripts/sim_seeds.ts                          # capacity, seeds 1–100
 *   deno run -P=dev scripts/sim_seeds.ts --controller ewma --seeds 1-20 --null
 *   deno run -P=dev scripts/sim_seeds.ts --shaper tbf --seeds 1-20    # a FIFO shaper
 *   deno run -P=dev scripts/sim_seeds.ts --loss-in-step              # TCP learns of a loss at once
 *   deno run -P=dev scripts/sim_seeds.ts --no-ack-path               # ACKs skip the other queue
 *   deno run -P=dev scripts/sim_seeds.ts --shaper tbf --no-tbf-bucket  # TBF without its bucket
 *   deno run -P=dev scripts/sim_seeds.ts --trace lte --min-percent 5  # lower minimum rates
 *   deno run -P=dev scripts/sim_seeds.ts --trace step --load saturate --per-seed
 *   deno run -P=dev scripts/sim_seeds.ts --trace lte --scale 0.05   # lte at 1.5/0.4 Mbit/s
 *   deno run -P=dev scripts/sim_seeds.ts --trace step --scale 50 --flows 16  # 16 flows a direction
 *   deno run -P=dev scripts/sim_seeds.ts --reflector-faults late:2   # faulty reflectors, + cuts
 *   deno run -P=dev scripts/sim_seeds.ts --reflectors 40 --cuts     # a pool of 40 (cycles of ~25)
 *   deno run -P=dev scripts/sim_seeds.ts --counter-scale 0.96        # the download counter reads low
 *   deno run -P=dev scripts/sim_seeds.ts --up-counter-scale 0.96     # the upload counter reads low
 *   deno run -P=dev scripts/sim_seeds.ts --counter-lag-ms 10         # per-decision counter scatter
 *   deno run -P=dev scripts/sim_seeds.ts --counter-scatter testbed   # the testbed's counter reads
 *   deno run -P=dev scripts/sim_seeds.ts --shaper tbf --down-shaper-on-lan  # as the e2e testbed
 *
 * With `--reflector-faults LIST` (as `simulate`'s) or `--cuts`, each line ends with the mean per
 * run of the cuts under load (both directions), of those with no queue on our link
 * (src/sim/cut_audit.ts; docs/simulator.md, "Faulty reflectors") and, per direction, of those on
 * the other direction's queue (docs/controllers.md, "v64"), then the mean per run of the control
 * loop's reselection requests and of the pinger's switches to another reflector set (two per
 * reselection: the candidates, then the peers; docs/controllers.md, "v66"); the no-queue cuts of
 * a run's first 30 s and the utilisation before and after 30 s (the run's 0.1 s series; before
 * the reflectors are judged, docs/controllers.md, "v70") and the probes sent a second, then the
 * most sent in one second of any run (issue 11 allows 20).
 */
import { counterReadOf, counterScale, nonNegative } from "../src/cli/simulate_command.ts";
import { type CounterRead, formatCounterRead } from "../src/sim/counter_read.ts";
import { settingsWithDefaults } from "../src/config/defaults.ts";
import { SETTINGS_TABLE, type TableSettings } from "../src/config/settings_table.ts";
import { convertValue } from "../src/config/resolve.ts";
import { BUILTIN_TRACES, LOAD_PROFILES, type LoadProfile, type RunResult } from "../src/sim/mod.ts";
import { figureOver, seedRuns } from "../src/sim/seed_runs.ts";
import { ExitCode } from "../src/util/exit_codes.ts";
import {
  formatReflectorFaults,
  parseReflectorFaults,
  type ReflectorFault,
} from "../src/sim/reflector_faults.ts";
import { mean, median } from "../src/util/stats.ts";
import { EARLY_S } from "../src/sim/cut_audit.ts";
import { exitOnHelp } from "../bench/_args.ts";

exitOnHelp(import.meta.url);

const DURATION_S = 300;
const LOADS: readonly LoadProfile[] = ["saturate", "bursty"];
/** The null perturbations of both base rates, kbit/s. */
const NULL_DELTAS = [1, -1];

type Trace = (typeof BUILTIN_TRACES)[number];

/** Command-line options. */
interface Options {
  controller: string;
  seeds: number[];
  withNull: boolean;
  /** The `shaper` setting (default cake). */
  shaper: TableSettings["shaper"];
  /** tbf/htb with an fq_codel leaf (`simulate --shaper-fq`). */
  shaperFq: boolean;
  /** The bulk flows learn of a loss at once (`simulate --loss-in-step`), not one RTT after it. */
  lossInStep: boolean;
  /** The bulk flows' ACKs wait in the opposite direction's queues (default; `--no-ack-path`). */
  ackPath: boolean;
  /** With `--shaper tbf`, no token bucket (`simulate --no-tbf-bucket`). */
  noTbfBucket: boolean;
  traces: readonly Trace[];
  loads: readonly LoadProfile[];
  perSeed: boolean;
  /** Both minimum rates, % of base (the settings' default 20 when undefined). */
  minPercent?: number;
  /** Every trace's samples and nominal (so the base rates) multiplied by this (`--scale F`). */
  scale?: number;
  /** Faulty reflectors (`--reflector-faults`). */
  faults: ReflectorFault[];
  /** Print the cut counts (`--cuts`, or any `--reflector-faults`). */
  cuts: boolean;
  /** Synthetic reflectors in the pool (`simulate --reflectors`; the engine's default 10). */
  reflectors?: number;
  /** TCP flows per direction of a bulk load (`simulate --flows`; the engine's default 4). */
  flows?: number;
  /** The share of the download shaper's bytes its counter reports (`--counter-scale F`). */
  downCounterScale?: number;
  /** The same for the upload (`--up-counter-scale F`). */
  upCounterScale?: number;
  /** Each counter read lags by up to this many ms of the rate (`--counter-lag-ms MS`). */
  counterLagMs?: number;
  /** Each counter read samples the bytes a random delay after its tick (`--counter-scatter`). */
  counterRead?: CounterRead;
  /** The download shaper sits on the LAN side: the probes skip its queue (`simulate`'s flag). */
  downShaperOnLan: boolean;
}

/**
 * Parses `--controller NAME`, `--seeds A-B` (or a comma list), `--shaper KIND`, `--shaper-fq`,
 * `--loss-in-step`, `--no-ack-path` (`--ack-path`, the default), `--no-tbf-bucket`, `--null`, `--trace` and `--load` (comma lists), `--per-seed` and
 * `--min-percent N` (both minimum rates, % of base), `--scale F` (each trace's capacity and
 * nominal × F: docs/controllers.md, "Across link rates"), `--reflectors N` (the pool's size),
 * `--flows N` (bulk TCP flows per
 * direction), `--reflector-faults LIST`, `--cuts`, and `--counter-scale F` / `--up-counter-scale F`
 * (the download / upload counter reports F of the shaper's bytes: docs/controllers.md, "v62") and
 * `--counter-lag-ms MS` (each counter read lags by a random 0 to MS ms of the rate),
 * `--counter-scatter SPEC` (each read samples the bytes a random delay after its tick: `testbed`
 * or [FIXED+]MEAN[:SHARE:TAILMEAN][:read] ms, src/sim/counter_read.ts) and
 * `--down-shaper-on-lan` (the probes skip the download shaper's queue, as in the e2e testbed).
 */
function parseArgs(args: readonly string[]): Options {
  const options: Options = {
    controller: "capacity",
    seeds: range(1, 100),
    withNull: false,
    shaper: "cake",
    shaperFq: false,
    lossInStep: false,
    ackPath: true,
    noTbfBucket: false,
    traces: BUILTIN_TRACES,
    loads: LOADS,
    perSeed: false,
    faults: [],
    cuts: false,
    downShaperOnLan: false,
  };
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--controller") options.controller = args[++i];
    else if (args[i] === "--seeds") options.seeds = parseSeeds(args[++i] ?? "");
    else if (args[i] === "--null") options.withNull = true;
    else if (args[i] === "--shaper") {
      const shapers = parseList(args[++i], SETTINGS_TABLE.shaper.choices);
      if (shapers.length !== 1) throw new Error("sim_seeds: --shaper takes one kind");
      options.shaper = shapers[0];
    } else if (args[i] === "--shaper-fq") options.shaperFq = true;
    else if (args[i] === "--loss-in-step") options.lossInStep = true;
    else if (args[i] === "--ack-path") options.ackPath = true;
    else if (args[i] === "--no-ack-path") options.ackPath = false;
    else if (args[i] === "--no-tbf-bucket") options.noTbfBucket = true;
    else if (args[i] === "--trace") options.traces = parseList(args[++i], BUILTIN_TRACES);
    else if (args[i] === "--load") options.loads = parseList(args[++i], LOAD_PROFILES);
    else if (args[i] === "--per-seed") options.perSeed = true;
    else if (args[i] === "--min-percent") options.minPercent = parseMinPercent(args[++i]);
    else if (args[i] === "--scale") options.scale = parseScale(args[++i]);
    else if (args[i] === "--reflector-faults") {
      options.faults = parseReflectorFaults(args[++i] ?? "");
      options.cuts = true;
    } else if (args[i] === "--cuts") options.cuts = true;
    else if (args[i] === "--flows") options.flows = parseWhole("--flows", args[++i]);
    else if (args[i] === "--reflectors") {
      options.reflectors = parseWhole("--reflectors", args[++i]);
    } else if (args[i] === "--counter-scale") {
      options.downCounterScale = counterScale("counter-scale", args[++i] ?? "");
    } else if (args[i] === "--up-counter-scale") {
      options.upCounterScale = counterScale("up-counter-scale", args[++i] ?? "");
    } else if (args[i] === "--down-shaper-on-lan") options.downShaperOnLan = true;
    else if (args[i] === "--counter-lag-ms") {
      options.counterLagMs = nonNegative("counter-lag-ms", args[++i] ?? "");
    } else if (args[i] === "--counter-scatter") {
      options.counterRead = counterReadOf(args[++i] ?? "");
    } else throw new Error(`sim_seeds: unknown argument "${args[i]}"`);
  }
  return options;
}

/**
 * `--min-percent`: converted as the settings are (`convertValue`); a value the daemon would clamp
 * is refused here, so a run never measures another floor than the one asked for.
 */
function parseMinPercent(text: string | undefined): number {
  const c = convertValue(SETTINGS_TABLE.dl_min_percent, text ?? "");
  if (!c.ok || c.warning !== undefined) {
    // The clamp warning's first clause names the range ("0.5 is outside 1…80").
    const why = c.ok ? c.warning!.split(";")[0] : c.message;
    throw new Error(`sim_seeds: --min-percent: ${why}`);
  }
  return c.value as number;
}

/** `--scale`: a finite factor above 0. */
function parseScale(text: string | undefined): number {
  const f = Number(text);
  if (!(f > 0) || !Number.isFinite(f)) {
    throw new Error(`sim_seeds: --scale "${text ?? ""}": want a number above 0 (e.g. 0.05 or 25)`);
  }
  return f;
}

/** `--flows`, `--reflectors`: a whole number, at least 1. */
function parseWhole(flag: string, text: string | undefined): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`sim_seeds: ${flag} "${text ?? ""}": want a whole number of at least 1`);
  }
  return n;
}

function parseList<T extends string>(text: string | undefined, known: readonly T[]): T[] {
  const items = (text ?? "").split(",");
  for (const item of items) {
    if (!(known as readonly string[]).includes(item)) {
      throw new Error(`sim_seeds: "${item}" is none of ${known.join(", ")}`);
    }
  }
  return items as T[];
}

function parseSeeds(text: string): number[] {
  const m = text.match(/^(\d+)-(\d+)$/);
  const seeds = m ? range(Number(m[1]), Number(m[2])) : text.split(",").map(Number);
  if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s))) {
    throw new Error(`sim_seeds: --seeds "${text}": want A-B or a comma list of integers`);
  }
  return seeds;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

/** The figures of one trace and load over the seeds. */
type Figures = Record<(typeof FIGURES)[number]["key"], number>;

const FIGURES = [
  { key: "p95", label: "p95 ms", of: (r: RunResult) => r.p95DelayMs, pick: median },
  { key: "util", label: "util %", of: (r: RunResult) => r.utilisationPct, pick: median },
  { key: "utilDl", label: "util dl %", of: (r: RunResult) => r.down.utilisationPct, pick: median },
  { key: "utilUl", label: "ul", of: (r: RunResult) => r.up.utilisationPct, pick: median },
  { key: "recMed", label: "recovery med s", of: (r: RunResult) => r.worstRecoveryS, pick: median },
  { key: "recMax", label: "max", of: (r: RunResult) => r.worstRecoveryS, pick: max },
  { key: "rampMed", label: "ramp-up med s", of: (r: RunResult) => r.maxRampupS, pick: median },
  { key: "rampMax", label: "max", of: (r: RunResult) => r.maxRampupS, pick: max },
  { key: "climbDl", label: "climb dl s", of: (r: RunResult) => r.down.meanClimbS, pick: mean },
  { key: "climbUl", label: "ul", of: (r: RunResult) => r.up.meanClimbS, pick: mean },
  // Each rate change is one `tc` call: the daemon's CPU under load (docs/footprint.md).
  {
    key: "changesDl",
    label: "changes/s dl",
    of: (r: RunResult) => r.down.rateChanges / r.durationS,
    pick: median,
  },
  {
    key: "changesUl",
    label: "ul",
    of: (r: RunResult) => r.up.rateChanges / r.durationS,
    pick: median,
  },
  // Each decision is a wake-up, a counter reading and an event-loop turn (docs/footprint.md).
  {
    key: "decisions",
    label: "decisions/s",
    of: (r: RunResult) => r.decisions / r.durationS,
    pick: median,
  },
] as const;

/** The cut counts (`--cuts`): means per run over the seeds, both directions. */
const CUT_FIGURES = [
  { label: "cuts/run", of: (r: RunResult) => r.cuts.down.all + r.cuts.up.all },
  { label: "no-queue cuts/run", of: (r: RunResult) => r.cuts.down.noQueue + r.cuts.up.noQueue },
  {
    label: `of them in the first ${EARLY_S} s`,
    of: (r: RunResult) => r.cuts.down.noQueueEarly + r.cuts.up.noQueueEarly,
  },
  { label: `util % first ${EARLY_S} s`, of: (r: RunResult) => utilisationBetween(r, 0, EARLY_S) },
  { label: "after", of: (r: RunResult) => utilisationBetween(r, EARLY_S, Infinity) },
  { label: "other-queue cuts/run dl", of: (r: RunResult) => r.cuts.down.otherQueue },
  { label: "ul", of: (r: RunResult) => r.cuts.up.otherQueue },
  { label: "reselection requests/run", of: (r: RunResult) => r.reselects },
  { label: "pinger switches/run", of: (r: RunResult) => r.pingerSwitches },
  { label: "probes/s", of: (r: RunResult) => r.probes.sent / r.durationS },
] as const;

/**
 * The mean of the loaded directions' utilisation between `fromS` and `toS`, from the run's 0.1 s
 * series (the headline's figure over a window; NaN when neither direction was loaded in it).
 */
function utilisationBetween(r: RunResult, fromS: number, toS: number): number {
  const shares: number[] = [];
  for (const s of [r.series.down, r.series.up]) {
    let got = 0, cap = 0;
    const from = Math.round(fromS / r.series.stepS);
    const to = Math.min(s.capacity.length, Math.round(toS / r.series.stepS));
    for (let j = from; j < to; j++) {
      if (s.loaded[j] === 0) continue;
      got += s.throughput[j];
      cap += s.capacity[j];
    }
    if (cap > 0) shares.push((100 * got) / cap);
  }
  return shares.length === 0 ? NaN : mean(shares);
}

function max(values: readonly number[]): number {
  return Math.max(...values);
}

async function figures(
  o: Options,
  x: { trace: Trace; load: LoadProfile; baseDelta: number },
): Promise<{ figures: Figures; runs: RunResult[] }> {
  const runs = await seedRuns({
    trace: x.trace,
    load: x.load,
    seeds: o.seeds,
    durationS: DURATION_S,
    scale: o.scale,
    engine: {
      shaperFq: o.shaperFq,
      lossAfterRtt: !o.lossInStep,
      ackPath: o.ackPath,
      tbfBucket: !o.noTbfBucket,
      reflectorFaults: o.faults,
      flows: o.flows,
      reflectorCount: o.reflectors,
      downCounterScale: o.downCounterScale,
      upCounterScale: o.upCounterScale,
      counterLagMs: o.counterLagMs,
      counterRead: o.counterRead,
      downShaperOnLan: o.downShaperOnLan,
    },
    settings: (trace) => {
      const overrides: Partial<TableSettings> = {
        rate_controller: o.controller,
        shaper: o.shaper,
      };
      if (o.minPercent !== undefined) {
        overrides.dl_min_percent = overrides.ul_min_percent = o.minPercent;
      }
      if (x.baseDelta !== 0) {
        overrides.base_dl_rate = trace.nominal.down + x.baseDelta;
        overrides.base_ul_rate = trace.nominal.up + x.baseDelta;
      }
      return settingsWithDefaults(overrides);
    },
  });
  const out = {} as Figures;
  for (const f of FIGURES) out[f.key] = figureOver(runs, f.of, f.pick);
  return { figures: out, runs };
}

/** One run's figures, for `--per-seed`. */
function seedLine(r: RunResult): string {
  const n = (v: number | null) => (v === null ? "–" : v.toFixed(2));
  return `  seed ${r.seed}: p95 ms ${n(r.p95DelayMs)}, util % ${n(r.utilisationPct)}, ` +
    `recovery s ${n(r.worstRecoveryS)} (dl ${n(r.down.worstRecoveryS)}, ` +
    `ul ${n(r.up.worstRecoveryS)}), ramp-up max s ${n(r.maxRampupS)}, ` +
    `median s ${n(r.medianRampupS)}, unreached ${r.unreachedRampups}`;
}

/**
 * For `--per-seed`: the load starts' figures the worst ramp-up hides (under `bursty` the worst is
 * mostly the length of the longest burst that never reached 90 %; docs/controllers.md, "Do the
 * recovery and ramp-up metrics measure what the issue means?").
 */
function startsLine(runs: readonly RunResult[]): string {
  const med = figureOver(runs, (r) => r.medianRampupS);
  const unreached = mean(runs.map((r) => r.unreachedRampups));
  const starts = mean(runs.map((r) => Math.max(r.down.rampupsS.length, r.up.rampupsS.length)));
  return `  over the seeds: ramp-up median of the runs' medians ${med.toFixed(2)} s, ` +
    `unreached starts per run ${unreached.toFixed(1)} (mean; of about ${starts.toFixed(0)} ` +
    `per direction)`;
}

function show(value: number, band: readonly number[]): string {
  const v = Number.isNaN(value) ? "–" : value.toFixed(2);
  if (band.length === 0 || band.some(Number.isNaN)) return v;
  const lo = Math.min(...band), hi = Math.max(...band);
  return `${v} [${lo.toFixed(2)}–${hi.toFixed(2)}]`;
}

let options: Options;
try {
  options = parseArgs(Deno.args);
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  Deno.exit(ExitCode.USAGE);
}
console.log(
  `${options.controller}, seeds ${options.seeds[0]}–${options.seeds.at(-1)} ` +
    `(${options.seeds.length}), ${DURATION_S} s` +
    (options.shaper !== "cake" ? `, shaper ${options.shaper}` : "") +
    (options.shaperFq ? " with an fq_codel leaf" : "") +
    (options.lossInStep ? ", TCP learns of a loss at once" : "") +
    (options.ackPath ? "" : ", ACKs skip the opposite queues (--no-ack-path)") +
    (options.noTbfBucket ? ", TBF without its bucket" : "") +
    (options.minPercent !== undefined ? `, minimum rates ${options.minPercent} % of base` : "") +
    (options.scale !== undefined ? `, capacity and base rates × ${options.scale}` : "") +
    (options.faults.length > 0
      ? `, reflector faults ${formatReflectorFaults(options.faults)}`
      : "") +
    (options.flows !== undefined ? `, ${options.flows} flows a direction` : "") +
    (options.downCounterScale !== undefined
      ? `, download counter × ${options.downCounterScale}`
      : "") +
    (options.upCounterScale !== undefined ? `, upload counter × ${options.upCounterScale}` : "") +
    (options.counterLagMs !== undefined ? `, counter reads lag 0–${options.counterLagMs} ms` : "") +
    (options.counterRead !== undefined
      ? `, counter reads delayed ${formatCounterRead(options.counterRead)} ms`
      : "") +
    (options.downShaperOnLan ? ", download shaper on the LAN side" : "") +
    (options.withNull ? "; [null band: base rates ±1 kbit/s]" : ""),
);
for (const load of options.loads) {
  for (const trace of options.traces) {
    const { figures: ref, runs } = await figures(options, { trace, load, baseDelta: 0 });
    const nulls = options.withNull
      ? (await Promise.all(
        NULL_DELTAS.map((baseDelta) => figures(options, { trace, load, baseDelta })),
      )).map((n) => n.figures)
      : [];
    const cells = FIGURES.map((f) => `${f.label} ${show(ref[f.key], nulls.map((n) => n[f.key]))}`);
    if (options.cuts) {
      for (const f of CUT_FIGURES) cells.push(`${f.label} ${mean(runs.map(f.of)).toFixed(1)}`);
      cells.push(`max ${max(runs.map((r) => r.probes.peakPerS))}`);
    }
    console.log(`${load} ${trace}: ${cells.join(", ")}`);
    if (options.perSeed) {
      for (const run of runs) console.log(seedLine(run));
      console.log(startsLine(runs));
    }
  }
}
