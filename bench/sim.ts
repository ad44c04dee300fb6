/**
 * Simulator benchmark: speed (simulated seconds per wall second) and the EWMA controller's
 * delay / utilisation on every built-in trace, saturating load, default settings, seed 1.
 */
import { settingsWithDefaults } from "../src/config/defaults.ts";
import { BUILTIN_TRACES, builtinTrace, simulate } from "../src/sim/mod.ts";
import { daemonPipeline } from "../src/sim/pipeline.ts";

const DURATION_S = 300;
const lines: string[] = [];
let simulated = 0;
let wallMs = 0;

for (const name of BUILTIN_TRACES) {
  const trace = builtinTrace(name, { durationS: DURATION_S, seed: 1 });
  const started = performance.now();
  const [run] = await simulate({
    settings: settingsWithDefaults(),
    trace,
    load: "saturate",
    durationS: DURATION_S,
    seed: 1,
    pipeline: (hooks) => daemonPipeline(hooks),
  });
  const ms = performance.now() - started;
  simulated += DURATION_S;
  wallMs += ms;
  const key = name.replace(/-/g, "_");
  console.log(
    `${name}: p95 ${run.p95DelayMs} ms, utilisation ${run.utilisationPct} %, worst recovery ` +
      `${run.maxRecoveryS} s (${run.unrecoveredDrops} never), ` +
      `${(DURATION_S / (ms / 1000)).toFixed(0)}x real time`,
  );
  lines.push(`metric sim_${key}_p95_delay ${run.p95DelayMs ?? "nan"} ms`);
  lines.push(`metric sim_${key}_utilisation ${run.utilisationPct ?? "nan"} pct`);
}

console.log(`metric sim_speedup ${(simulated / (wallMs / 1000)).toFixed(0)} x`);
for (const l of lines) console.log(l);
