/**
 * The e2e testbed's link, load and daemon thresholds: one definition for the test
 * (e2e_test.ts), the simulator comparison (scripts/sim_vs_testbed.ts) and the traces
 * data/traces/e2e*.csv (checked against them in setup_test.ts). See docs/e2e.md.
 */
import type { Schedule } from "./scenario.ts";

/** The testbed's capacity schedules; `SQMA_E2E_SCHEDULE` picks one (docs/e2e.md, "Schedules"). */
export const SCHEDULE_NAMES = ["download-step", "upload-step", "fast-step"] as const;

/** A schedule's name. */
export type ScheduleName = (typeof SCHEDULE_NAMES)[number];

const ROOT = new URL("../../", import.meta.url).pathname;

/**
 * The schedule `name` and its trace for the simulator. `download-step` (the default): ISP
 * download 20 → 8 → 20 Mbit/s, upload 10 Mbit/s. `upload-step`: download 20 Mbit/s, upload 10 →
 * 1.5 → 10 Mbit/s under a two-way load: the dip lies below the daemon's upload floor (20 % of the
 * 10 Mbit/s base), so the ISP's upload queue fills whatever the controller does and the download's
 * ACKs wait in it (docs/controllers.md, "An ISP upload queue that fills"). `fast-step`:
 * `download-step` at ten times the rates, 200 → 80 → 200 Mbit/s down, 100 Mbit/s up
 * (docs/controllers.md, "Simulator against the testbed").
 */
export function namedSchedule(
  name: ScheduleName,
  o: { streams: number; twoWay: boolean },
): { schedule: Schedule; trace: string } {
  // Modest rates: the CPU is shared with other tests.
  const common = {
    loadS: 30,
    stepDownAtS: 12,
    stepUpAtS: 20,
    highDownKbit: 20_000,
    upKbit: 10_000,
    streams: o.streams,
    probePeriodMs: 100,
  };
  switch (name) {
    case "upload-step":
      return {
        schedule: { ...common, lowDownKbit: 20_000, lowUpKbit: 1_500, twoWay: true },
        trace: `${ROOT}data/traces/e2e_upload_step.csv`,
      };
    case "fast-step":
      return {
        schedule: {
          ...common,
          highDownKbit: 200_000,
          lowDownKbit: 80_000,
          upKbit: 100_000,
          lowUpKbit: 100_000,
          twoWay: o.twoWay,
        },
        trace: `${ROOT}data/traces/e2e_fast_step.csv`,
      };
    case "download-step":
      return {
        schedule: { ...common, lowDownKbit: 8_000, lowUpKbit: 10_000, twoWay: o.twoWay },
        trace: `${ROOT}data/traces/e2e.csv`,
      };
  }
}

/** The schedule's name from `SQMA_E2E_SCHEDULE` (default `download-step`); throws on others. */
export function scheduleName(value: string | undefined): ScheduleName {
  const name = value ?? "download-step";
  if (!(SCHEDULE_NAMES as readonly string[]).includes(name)) {
    throw new Error(`SQMA_E2E_SCHEDULE: expected one of ${SCHEDULE_NAMES.join(", ")}`);
  }
  return name as ScheduleName;
}

/** The schedule of this run: `SQMA_E2E_SCHEDULE`, `SQMA_E2E_STREAMS` (8), `SQMA_E2E_TWO_WAY`. */
export const SCHEDULE: Schedule = namedSchedule(scheduleName(Deno.env.get("SQMA_E2E_SCHEDULE")), {
  streams: Number(Deno.env.get("SQMA_E2E_STREAMS") ?? 8),
  // SQMA_E2E_TWO_WAY=1: saturating uploads too (`deno task sim:e2e --two-way`; docs/e2e.md).
  twoWay: Deno.env.get("SQMA_E2E_TWO_WAY") === "1",
}).schedule;

/** One line naming the ISP's rates and steps of `s` (the test's and sim:e2e's headers). */
export function describeSchedule(s: Schedule): string {
  const mbit = (kbit: number) => `${kbit / 1000}`;
  const dir = (hi: number, lo: number, what: string) =>
    hi === lo ? `${mbit(hi)} Mbit/s ${what}` : `${mbit(hi)}→${mbit(lo)}→${mbit(hi)} Mbit/s ${what}`;
  return `ISP ${dir(s.highDownKbit, s.lowDownKbit, "down")}, ${dir(s.upKbit, s.lowUpKbit, "up")}` +
    `, steps at ${s.stepDownAtS}/${s.stepUpAtS} s of ${s.loadS} s`;
}
/** ISP (bottleneck) buffer: `tbf … latency`, so milliseconds at the current rate. */
export const ISP_BUFFER_MS = Number(Deno.env.get("SQMA_E2E_ISP_BUFFER_MS") ?? 300);
/** Router shaper buffer, ms (tbf latency; htb: a bfifo sized for the initial ISP rate). */
export const ROUTER_BUFFER_MS = Number(Deno.env.get("SQMA_E2E_ROUTER_BUFFER_MS") ?? 20);
/** Per-direction delay threshold given to the daemon (ms; see daemonFlags in e2e_test.ts). */
export const DELAY_THRESHOLD_MS = Number(Deno.env.get("SQMA_E2E_DELAY_MS") ?? 7.5);
/** Active reflectors of the daemon. */
export const NUM_REFLECTORS = 5;
/** RTT after a capacity change that counts as the controller's reaction, not steady state. */
export const TRANSIENT_MS = 3000;
/** Load p95 is taken from this long after the load starts. */
export const LOAD_SETTLE_MS = 1000;
