/**
 * The daemon's pipeline on one built-in trace and load, once per seed: what the simulator
 * benchmark and the controller research scripts compare controllers with (docs/controllers.md).
 */
import type { Settings } from "../config/types.ts";
import { simulate, type SimulateOptions } from "./mod.ts";
import type { RunResult } from "./engine.ts";
import type { LoadProfile } from "./load.ts";
import { builtinTrace, type BuiltinTraceName, type CapacityTrace, scaledTrace } from "./trace.ts";
import { daemonPipeline } from "./pipeline.ts";
import { median } from "../util/stats.ts";

/** Options of {@link seedRuns}. */
export interface SeedRunsOptions {
  /** Built-in trace. */
  trace: BuiltinTraceName;
  /** Load profile. */
  load: LoadProfile;
  /** One run per seed (the trace's and the run's). */
  seeds: readonly number[];
  /** Simulated seconds per run. */
  durationS: number;
  /** The settings of a run on `trace` (its seed's trace: base rates may follow its nominal). */
  settings: (trace: CapacityTrace) => Settings;
  /** Every capacity sample and the nominal multiplied by this (default 1: the trace as built). */
  scale?: number;
  /** Extra engine options (e.g. `shaperFq`). */
  engine?: SimulateOptions["engine"];
  /** Called with the wall time of each simulation (ms), not counting the trace's generation. */
  onWallMs?: (ms: number) => void;
}

/** Runs the controller scenario once per seed, in seed order. */
export async function seedRuns(options: SeedRunsOptions): Promise<RunResult[]> {
  const runs: RunResult[] = [];
  for (const seed of options.seeds) {
    const built = builtinTrace(options.trace, { durationS: options.durationS, seed });
    const trace = options.scale === undefined ? built : scaledTrace(built, options.scale);
    const started = performance.now();
    const [run] = await simulate({
      settings: options.settings(trace),
      trace,
      load: options.load,
      durationS: options.durationS,
      seed,
      pipeline: (hooks) => daemonPipeline(hooks),
      engine: options.engine,
    });
    options.onWallMs?.(performance.now() - started);
    runs.push(run);
  }
  return runs;
}

/**
 * `pick` (default: the median) of a figure over the runs that have it; NaN when none has
 * (e.g. recovery on a trace without drops).
 */
export function figureOver(
  runs: readonly RunResult[],
  of: (run: RunResult) => number | null,
  pick: (values: number[]) => number = median,
): number {
  const values = runs.map(of).filter((v): v is number => v !== null);
  return values.length === 0 ? NaN : pick(values);
}
