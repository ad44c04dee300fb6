/**
 * The simulator: runs the control pipeline against a modelled link in virtual time, with
 * optional comparison scenarios (no shaper, static shaper, oracle), and reports metrics.
 */
import { deriveSettings } from "../config/defaults.ts";
import type { Settings } from "../config/types.ts";
import {
  type RunOptions,
  type RunResult,
  runScenario,
  type ScenarioKind,
  type SimHooks,
  type SimPipeline,
} from "./engine.ts";
import { LOAD_PROFILES, type LoadPlan, loadPlan, type LoadProfile } from "./load.ts";
import type { CapacityTrace } from "./trace.ts";

export * from "./engine.ts";
export * from "./trace.ts";
export { LOAD_PROFILES, type LoadPlan, loadPlan, type LoadProfile } from "./load.ts";
export { renderSvg } from "./svg.ts";

/** Options of `simulate`. */
export interface SimulateOptions {
  /** Settings of the controller under test; base rates 0 = the trace's nominal capacity. */
  settings: Settings;
  /** Capacity trace. */
  trace: CapacityTrace;
  /** Load profile name or explicit plan. */
  load: LoadProfile | LoadPlan;
  /** Simulated seconds. */
  durationS: number;
  /** Seed. */
  seed: number;
  /** Also run no shaper, static shaper and oracle. */
  compare?: boolean;
  /** Builds the controller pipeline (default: the real daemon pipeline). */
  pipeline: (hooks: SimHooks) => SimPipeline | Promise<SimPipeline>;
  /** Extra engine options (reflectors, buffer, bulk flows, per-step delay callback). */
  engine?: Pick<
    RunOptions,
    | "reflectorCount"
    | "maxLoss"
    | "reflectorJitter"
    | "reflectorFaults"
    | "bufferMs"
    | "bufferScales"
    | "downShaperOnLan"
    | "shaperFq"
    | "flows"
    | "bulkRttMs"
    | "cc"
    | "lossAfterRtt"
    | "ackPath"
    | "tbfBucket"
    | "downCounterScale"
    | "upCounterScale"
    | "counterLagMs"
    | "counterRead"
    | "onStep"
  >;
  /** Progress: run index, run count, fraction of that run. */
  onProgress?: (run: number, runs: number, fraction: number) => void;
}

/** Fills in base rates from the trace when not set (0), re-deriving the minimum rates. */
export function withTraceBaseRates(settings: Settings, trace: CapacityTrace): Settings {
  if (settings.base_dl_rate > 0 && settings.base_ul_rate > 0) return settings;
  return deriveSettings({
    ...settings,
    base_dl_rate: settings.base_dl_rate > 0 ? settings.base_dl_rate : trace.nominal.down,
    base_ul_rate: settings.base_ul_rate > 0 ? settings.base_ul_rate : trace.nominal.up,
  });
}

/** Runs the controller scenario (and the comparison scenarios with `compare`). */
export async function simulate(options: SimulateOptions): Promise<RunResult[]> {
  const settings = withTraceBaseRates(options.settings, options.trace);
  const load = typeof options.load === "string"
    ? loadPlan(options.load, {
      durationS: options.durationS,
      seed: options.seed,
      nominal: options.trace.nominal,
    })
    : options.load;
  const kinds: ScenarioKind[] = options.compare
    ? ["controller", "none", "static", "oracle"]
    : ["controller"];
  const results: RunResult[] = [];
  for (let i = 0; i < kinds.length; i++) {
    results.push(
      await runScenario({
        scenario: kinds[i],
        settings,
        trace: options.trace,
        load,
        durationS: options.durationS,
        seed: options.seed,
        pipeline: options.pipeline,
        ...options.engine,
        onProgress: options.onProgress
          ? (f) => options.onProgress?.(i, kinds.length, f)
          : undefined,
      }),
    );
  }
  return results;
}

/** True when `name` is a built-in load profile. */
export function isLoadProfile(name: string): name is LoadProfile {
  return (LOAD_PROFILES as readonly string[]).includes(name);
}

/** The summary of a run without the plot series (for `--json`). */
export function summaryOf(run: RunResult): Omit<RunResult, "series"> {
  const { series: _series, ...rest } = run;
  return rest;
}

/** A plain-text table with the runs side by side. */
export function formatSummaryTable(runs: readonly RunResult[]): string {
  const rows: [string, (r: RunResult) => string][] = [
    ["p95 added delay (worst dir)", (r) => v(r.p95DelayMs, " ms")],
    ["utilisation (mean of dirs)", (r) => v(r.utilisationPct, " %")],
    ["worst recovery after drop", (r) => rec(r.maxRecoveryS, r.unrecoveredDrops)],
    ["ramp-up median/worst", (r) => ramp(r.medianRampupS, r.maxRampupS, r.unreachedRampups)],
    ["download p50/p95/p99 delay", (r) => pct3(r.down)],
    ["download utilisation", (r) => v(r.down.utilisationPct, " %")],
    ["download time above threshold", (r) => v(r.down.aboveThresholdPct, " %")],
    ["download recoveries", (r) => recList(r.down.recoveriesS)],
    ["download rate changes", (r) => String(r.down.rateChanges)],
    ["download cuts (no queue)", (r) => `${r.cuts.down.all} (${r.cuts.down.noQueue})`],
    ["upload p50/p95/p99 delay", (r) => pct3(r.up)],
    ["upload utilisation", (r) => v(r.up.utilisationPct, " %")],
    ["upload time above threshold", (r) => v(r.up.aboveThresholdPct, " %")],
    ["upload recoveries", (r) => recList(r.up.recoveriesS)],
    ["upload rate changes", (r) => String(r.up.rateChanges)],
    ["upload cuts (no queue)", (r) => `${r.cuts.up.all} (${r.cuts.up.noQueue})`],
    ["reselection requests", (r) => (r.scenario === "controller" ? String(r.reselects) : "-")],
  ];
  const header = ["", ...runs.map((r) => r.label)];
  const body = rows.map(([name, f]) => [name, ...runs.map(f)]);
  const table = [header, ...body];
  const widths = header.map((_, c) => Math.max(...table.map((row) => row[c].length)));
  const first = runs[0];
  const title = first
    ? `trace ${first.trace}, load ${first.load}, ${first.durationS} s, seed ${first.seed}; ` +
      `thresholds down ${first.down.thresholdMs} ms / up ${first.up.thresholdMs} ms`
    : "";
  return [
    title,
    ...table.map((row) =>
      row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join(
        "  ",
      )
    ),
  ].join("\n") + "\n";
}

function v(x: number | null, unit: string): string {
  return x === null ? "n/a" : `${x.toFixed(1)}${unit}`;
}

function pct3(d: RunResult["down"]): string {
  if (d.p50DelayMs === null) return "n/a (idle)";
  return `${d.p50DelayMs.toFixed(1)}/${d.p95DelayMs?.toFixed(1)}/${d.p99DelayMs?.toFixed(1)} ms`;
}

function rec(max: number | null, unrecovered: number): string {
  const base = max === null ? "-" : `${max.toFixed(2)} s`;
  return unrecovered > 0 ? `${base} (+${unrecovered} never)` : base;
}

function ramp(med: number | null, max: number | null, unreached: number): string {
  if (med === null || max === null) return "-";
  const base = `${med.toFixed(2)}/${max.toFixed(2)} s`;
  return unreached > 0 ? `${base} (${unreached} unreached)` : base;
}

function recList(list: readonly (number | null)[]): string {
  if (list.length === 0) return "-";
  const shown = list.slice(0, 4).map((x) => (x === null ? "never" : x.toFixed(1))).join(" ");
  const unit = list.some((x) => x !== null) ? " s" : "";
  return list.length > 4 ? `${shown}${unit} …(${list.length} drops)` : `${shown}${unit}`;
}
