/**
 * Long runs (docs/footprint.md, "Long runs"): `capacity` and `ewma` each run a day of virtual time
 * under the load `day` (src/sim/load.ts: idle nights, bursts, a download, saturated hours) on every
 * built-in trace, `step` and `cable-evening` repeating their 300 s shape (`periodS`), seed 1,
 * default settings (idle mode on). Per virtual hour: the worse direction's p95 added delay while
 * loaded, the utilisation while loaded (mean of the loaded directions, from the 0.1 s series), the
 * shaper rates at the end of the hour (% of the base rates: at the end of an idle hour, what the next
 * load starts from), the median time of the controller's `decide` and the JS heap used after a
 * forced GC (needs `--v8-flags=--expose-gc`; the task `bench:soak` gives it).
 *
 * It ends with `metric` lines per controller, each the worst over the traces (and per trace):
 * `soak_<ctl>_heap_growth_kb_per_h` (least-squares slope of the heap at the ends of the idle hours
 * after the first load, or of the days' last hours when the run has two or more),
 * `soak_<ctl>_util_first_vs_last_h_pct` and `soak_<ctl>_p95_first_vs_last_h_ms` (the last
 * saturated hour, TCP both ways, minus the first: 22–23 h against 13–14 h in a day),
 * `soak_<ctl>_decide_median_us` (median over the run), and `soak_wall_s`.
 *
 * Not part of `deno task bench` (about 10 minutes). Options: `--hours N` (default 24), `--trace`
 * and `--controller` (comma lists).
 */
import { settingsWithDefaults } from "../src/config/defaults.ts";
import type { Ratecontroller, TickInput } from "../src/control/ratecontroller_port.ts";
import { BUILTIN_TRACES, builtinTrace, type BuiltinTraceName, simulate } from "../src/sim/mod.ts";
import { DAY_HOURS, loadPlan, ScheduleCursor } from "../src/sim/load.ts";
import { SIM_DT_S } from "../src/sim/engine.ts";
import { SERIES_STEP_S } from "../src/sim/metrics.ts";
import { daemonPipeline } from "../src/sim/pipeline.ts";
import { mean, median, percentileOfSorted } from "../src/util/stats.ts";
import { argValue, exitOnHelp } from "./_args.ts";

exitOnHelp(import.meta.url);

const SEED = 1;
/** The shape `step` and `cable-evening` repeat (the benchmark's run length). */
const TRACE_PERIOD_S = 300;
const HOUR_S = 3600;

/** One virtual hour of one run. */
interface HourRow {
  hour: number;
  /** Worse direction's p95 added delay while loaded, ms (null: idle hour). */
  p95Ms: number | null;
  /** Utilisation while loaded, mean of the loaded directions, % (null: idle hour). */
  utilPct: number | null;
  /** Shaper rates at the end of the hour, % of the base rates. */
  dlPct: number;
  ulPct: number;
  /** Median `decide` time, µs (null: no decision, e.g. idle mode all hour). */
  decideUs: number | null;
  /** JS heap used after a GC at the end of the hour, bytes (NaN without --expose-gc). */
  heapBytes: number;
}

const hours = Number(argValue("--hours") ?? "24");
if (!(Number.isInteger(hours) && hours > 0)) throw new Error(`--hours: want an integer > 0`);
const traces = (argValue("--trace")?.split(",") ?? [...BUILTIN_TRACES]) as BuiltinTraceName[];
const controllers = argValue("--controller")?.split(",") ?? ["capacity", "ewma"];
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) console.log("no --expose-gc: heap figures are NaN");

/** The heap used after a full GC, bytes. */
function heapAfterGc(): number {
  if (gc === undefined) return NaN;
  gc();
  return Deno.memoryUsage().heapUsed;
}

/** `controller` with each `decide` timed into `times` (ms). */
function timed(controller: Ratecontroller, times: number[]): Ratecontroller {
  return {
    name: controller.name,
    get intervalS() {
      return controller.intervalS;
    },
    decide(input: TickInput) {
      const t0 = performance.now();
      const r = controller.decide(input);
      if (r instanceof Promise) return r.finally(() => times.push(performance.now() - t0));
      times.push(performance.now() - t0);
      return r;
    },
    speedHistory: controller.speedHistory?.bind(controller),
    close: controller.close?.bind(controller),
  };
}

/** Runs one controller a `hours`-long day on one trace; returns its hourly rows. */
async function soak(ctl: string, name: BuiltinTraceName): Promise<HourRow[]> {
  const durationS = hours * HOUR_S;
  const trace = builtinTrace(name, { durationS, seed: SEED, periodS: TRACE_PERIOD_S });
  const plan = loadPlan("day", { durationS, seed: SEED, nominal: trace.nominal });
  const stepsPerHour = Math.round(HOUR_S / SIM_DT_S);
  const dirs = [new ScheduleCursor(plan.down), new ScheduleCursor(plan.up)];
  const delays = [new Float64Array(stepsPerHour), new Float64Array(stepsPerHour)];
  const counts = [0, 0];
  const times: number[] = [];
  const rows: HourRow[] = [];
  let k = 0;
  const [run] = await simulate({
    settings: settingsWithDefaults({ rate_controller: ctl }),
    trace,
    load: plan,
    durationS,
    seed: SEED,
    pipeline: (hooks) => daemonPipeline(hooks, { wrapController: (c) => timed(c, times) }),
    engine: {
      onStep: (t, d) => {
        const ms = [d.downMs, d.upMs];
        for (let d = 0; d < 2; d++) if (dirs[d].at(t)) delays[d][counts[d]++] = ms[d];
        if (++k % stepsPerHour !== 0) return;
        const p95 = [0, 1].filter((d) => counts[d] > 0).map((d) =>
          percentileOfSorted(delays[d].subarray(0, counts[d]).sort(), 95)
        );
        rows.push({
          hour: k / stepsPerHour - 1,
          p95Ms: p95.length > 0 ? Math.max(...p95) : null,
          utilPct: null,
          dlPct: NaN,
          ulPct: NaN,
          decideUs: times.length > 0 ? median(times) * 1000 : null,
          heapBytes: heapAfterGc(),
        });
        counts[0] = counts[1] = 0;
        times.length = 0;
      },
    },
  });
  // Utilisation and end-of-hour rates from the 0.1 s series.
  const per = Math.round(HOUR_S / SERIES_STEP_S);
  const base = { down: trace.nominal.down, up: trace.nominal.up };
  for (const row of rows) {
    const from = row.hour * per, to = from + per;
    const utils: number[] = [];
    for (const d of ["down", "up"] as const) {
      const s = run.series[d];
      let got = 0, cap = 0;
      for (let j = from; j < to; j++) {
        if (s.loaded[j] === 0) continue;
        got += s.throughput[j];
        cap += s.capacity[j];
      }
      if (cap > 0) utils.push((100 * got) / cap);
    }
    row.utilPct = utils.length > 0 ? mean(utils) : null;
    row.dlPct = (100 * run.series.down.shaper[to - 1]) / base.down;
    row.ulPct = (100 * run.series.up.shaper[to - 1]) / base.up;
  }
  return rows;
}

/** The day's load of an hour, as the table shows it. */
function loadOf(hour: number): string {
  const [dl, ul] = DAY_HOURS[hour % 24];
  return dl === ul ? dl : `${dl}/${ul}`;
}

/** Least-squares slope of `ys` over `xs`. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = mean(xs), my = mean(ys);
  let num = 0, den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return num / den;
}

const fmt = (
  x: number | null,
  digits = 1,
) => (x === null || Number.isNaN(x) ? "-" : x.toFixed(digits));
const started = performance.now();
const metrics: string[] = [];
const worst: Record<string, Record<string, number[]>> = {};
for (const ctl of controllers) {
  worst[ctl] = { heap: [], util: [], p95: [], decide: [] };
  for (const name of traces) {
    const t0 = performance.now();
    const rows = await soak(ctl, name);
    const wallS = (performance.now() - t0) / 1000;
    console.log(
      `\n${ctl} on ${name}, load day, ${hours} h, seed ${SEED}: ${wallS.toFixed(1)} s wall`,
    );
    console.log("hour  load          p95 ms  util %  end rate dl/ul %  decide us  heap MB");
    for (const r of rows) {
      console.log(
        `${String(r.hour).padStart(4)}  ${loadOf(r.hour).padEnd(12)}  ${
          fmt(r.p95Ms).padStart(6)
        }  ${fmt(r.utilPct).padStart(6)}  ${
          `${fmt(r.dlPct, 0)}/${fmt(r.ulPct, 0)}`.padStart(16)
        }  ${fmt(r.decideUs, 2).padStart(9)}  ${fmt(r.heapBytes / 2 ** 20, 2).padStart(7)}`,
      );
    }
    // Compared at like moments: the ends of idle hours after the first load (the controller's
    // load state built, its code compiled); over several days, the last hour of each day alone.
    const firstLoaded = rows.find((r) => r.p95Ms !== null)?.hour ?? 0;
    const idle = rows.filter((r) => r.hour > firstLoaded && r.p95Ms === null);
    const nights = rows.filter((r) => r.hour % 24 === 23);
    const like = nights.length >= 2 ? nights : idle;
    const heapKbPerH = slope(like.map((r) => r.hour), like.map((r) => r.heapBytes / 1024));
    const saturated = rows.filter((r) => DAY_HOURS[r.hour % 24].every((l) => l === "tcp"));
    const first = saturated[0], last = saturated[saturated.length - 1];
    const two = saturated.length >= 2;
    const utilDiff = two ? (last.utilPct ?? NaN) - (first.utilPct ?? NaN) : NaN;
    const p95Diff = two ? (last.p95Ms ?? NaN) - (first.p95Ms ?? NaN) : NaN;
    const decides = rows.map((r) => r.decideUs).filter((x): x is number => x !== null);
    const decideUs = decides.length > 0 ? median(decides) : NaN;
    const key = `soak_${ctl}_${name.replace(/-/g, "_")}`;
    metrics.push(
      `metric ${key}_heap_growth_kb_per_h ${heapKbPerH.toFixed(1)} kB/h`,
      `metric ${key}_util_first_vs_last_h_pct ${utilDiff.toFixed(2)} pct`,
      `metric ${key}_p95_first_vs_last_h_ms ${p95Diff.toFixed(2)} ms`,
    );
    worst[ctl].heap.push(heapKbPerH);
    worst[ctl].util.push(utilDiff);
    worst[ctl].p95.push(p95Diff);
    worst[ctl].decide.push(decideUs);
  }
}
console.log("");
for (const ctl of controllers) {
  const w = worst[ctl];
  console.log(`metric soak_${ctl}_heap_growth_kb_per_h ${Math.max(...w.heap).toFixed(1)} kB/h`);
  console.log(`metric soak_${ctl}_util_first_vs_last_h_pct ${Math.min(...w.util).toFixed(2)} pct`);
  console.log(`metric soak_${ctl}_p95_first_vs_last_h_ms ${Math.max(...w.p95).toFixed(2)} ms`);
  console.log(`metric soak_${ctl}_decide_median_us ${Math.max(...w.decide).toFixed(2)} us`);
}
for (const m of metrics) console.log(m);
console.log(`metric soak_wall_s ${((performance.now() - started) / 1000).toFixed(0)} s`);
