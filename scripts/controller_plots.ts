/**
 * Writes docs/controllers-<trace>.svg: the capacity controller against EWMA on every built-in
 * trace (saturating load, 120 s, seed 1, default settings otherwise), the plots in
 * docs/controllers.md. Run: deno run -P=dev scripts/controller_plots.ts
 */
import { settingsWithDefaults } from "../src/config/defaults.ts";
import {
  BUILTIN_TRACES,
  builtinTrace,
  renderSvg,
  type RunResult,
  simulate,
} from "../src/sim/mod.ts";
import { daemonPipeline } from "../src/sim/pipeline.ts";

const DURATION_S = 120;
const SEED = 1;

for (const name of BUILTIN_TRACES) {
  const runs: RunResult[] = [];
  for (const rate_controller of ["capacity", "ewma"]) {
    const [run] = await simulate({
      settings: settingsWithDefaults({ rate_controller }),
      trace: builtinTrace(name, { durationS: DURATION_S, seed: SEED }),
      load: "saturate",
      durationS: DURATION_S,
      seed: SEED,
      pipeline: (hooks) => daemonPipeline(hooks),
    });
    runs.push(run);
  }
  const file = `docs/controllers-${name}.svg`;
  await Deno.writeTextFile(file, renderSvg(runs));
  console.log(`${file}: ${runs.map((r) => `${r.label} p95 ${r.p95DelayMs} ms`).join(", ")}`);
}
