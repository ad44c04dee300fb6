/**
 * Simulator benchmark: speed (simulated seconds per wall second), and the default controller
 * side by side with EWMA on every built-in trace × seeds 1–5 (median over the seeds), for the
 * loads `saturate` and `bursty`, default settings otherwise.
 *
 * Lines: `sim_<trace>_{p95_delay,utilisation,recovery,rampup}` for the default controller (the
 * settings table's `rate_controller` default), `_bursty` after the figure for load `bursty`, and
 * `_ewma` last for EWMA; while the default is not `capacity`, the same lines with `_capacity` for it
 * (the candidate default of docs/controllers.md), so its progress shows in every bench run. Recovery and ramp-up are the worst of the run (`worstRecoveryS`,
 * `maxRampupS`: an unrecovered drop or unreached ramp-up counts as the time it was given);
 * `sim_<trace>_climb` is the slower direction's mean climb after a capacity rise (`meanClimbS`,
 * docs/simulator.md; `nan` on a trace without rises). Beside the worst ramp-up, which under `bursty`
 * is the length of the longest burst that never reached 90 % of capacity, `sim_<trace>_rampup_median`
 * (the worse direction's median, `medianRampupS`) and `sim_<trace>_rampup_unreached` (load starts
 * of the run, both directions, that never reached 90 %, `unreachedRampups`) say how often and how
 * fast a load start reaches it (docs/simulator.md, "Ramp-up under bursts").
 */
import { defaultValue, settingsWithDefaults } from "../src/config/defaults.ts";
import { BUILTIN_TRACES, type RunResult } from "../src/sim/mod.ts";
import { figureOver, seedRuns } from "../src/sim/seed_runs.ts";

const DURATION_S = 300;
const SEEDS = [1, 2, 3, 4, 5];
const LOADS = ["saturate", "bursty"] as const;
const defaultController = String(defaultValue("rate_controller"));
/** The candidate default, reported beside the default until it becomes the default. */
const CANDIDATE = "capacity";
const controllers = [
  { name: defaultController, suffix: "" },
  { name: "ewma", suffix: "_ewma" },
  ...(defaultController === CANDIDATE ? [] : [{ name: CANDIDATE, suffix: `_${CANDIDATE}` }]),
];

const FIGURES: { key: string; unit: string; of: (r: RunResult) => number | null }[] = [
  { key: "p95_delay", unit: "ms", of: (r) => r.p95DelayMs },
  { key: "utilisation", unit: "pct", of: (r) => r.utilisationPct },
  { key: "recovery", unit: "s", of: (r) => r.worstRecoveryS },
  { key: "rampup", unit: "s", of: (r) => r.maxRampupS },
  { key: "climb", unit: "s", of: slowerClimb },
  { key: "rampup_median", unit: "s", of: (r) => r.medianRampupS },
  { key: "rampup_unreached", unit: "starts", of: (r) => r.unreachedRampups },
];

/** The slower direction's mean climb after a capacity rise, s; null without rises under load. */
function slowerClimb(r: RunResult): number | null {
  const climbs = [r.down.meanClimbS, r.up.meanClimbS].filter((c): c is number => c !== null);
  return climbs.length === 0 ? null : Math.max(...climbs);
}

const lines: string[] = [];
/** Runs per load, trace and controller: a controller listed twice (the default) runs once. */
const done = new Map<string, RunResult[]>();
let simulated = 0;
let wallMs = 0;

console.log(`default controller: ${defaultController}; ${DURATION_S} s, seeds ${SEEDS.join(",")}`);
for (const load of LOADS) {
  for (const name of BUILTIN_TRACES) {
    for (const ctl of controllers) {
      const runs: RunResult[] = done.get(`${load} ${name} ${ctl.name}`) ?? await seedRuns({
        trace: name,
        load,
        seeds: SEEDS,
        durationS: DURATION_S,
        settings: () => settingsWithDefaults({ rate_controller: ctl.name }),
        onWallMs: (ms) => {
          wallMs += ms;
          simulated += DURATION_S;
        },
      });
      done.set(`${load} ${name} ${ctl.name}`, runs);
      const key = name.replace(/-/g, "_");
      const loadSuffix = load === "saturate" ? "" : `_${load}`;
      const medians = FIGURES.map((f) => Math.round(figureOver(runs, f.of) * 100) / 100);
      console.log(
        `${load} ${name} ${ctl.name}: p95 ${medians[0]} ms, utilisation ${medians[1]} %, ` +
          `worst recovery ${medians[2]} s, worst ramp-up ${medians[3]} s, climb ${
            medians[4]
          } s, median ramp-up ${medians[5]} s, unreached starts ${medians[6]} ` +
          `(medians of ${SEEDS.length} seeds)`,
      );
      FIGURES.forEach((f, i) => {
        const value = Number.isNaN(medians[i]) ? "nan" : String(medians[i]);
        lines.push(`metric sim_${key}_${f.key}${loadSuffix}${ctl.suffix} ${value} ${f.unit}`);
      });
    }
  }
}

console.log(`metric sim_speedup ${(simulated / (wallMs / 1000)).toFixed(0)} x`);
for (const l of lines) console.log(l);
