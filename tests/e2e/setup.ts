/**
 * The e2e testbed's link, load and daemon thresholds: one definition for the test
 * (e2e_test.ts), the simulator comparison (scripts/sim_vs_testbed.ts) and the trace
 * data/traces/e2e.csv (checked against it in setup_test.ts). See docs/e2e.md.
 */
import type { Schedule } from "./scenario.ts";

/** Modest rates: the CPU is shared with other tests. */
export const SCHEDULE: Schedule = {
  loadS: 30,
  stepDownAtS: 12,
  stepUpAtS: 20,
  highDownKbit: 20_000,
  lowDownKbit: 8_000,
  upKbit: 10_000,
  streams: Number(Deno.env.get("SQMA_E2E_STREAMS") ?? 8),
  // SQMA_E2E_TWO_WAY=1: saturating uploads too (`deno task sim:e2e --two-way`; docs/e2e.md).
  twoWay: Deno.env.get("SQMA_E2E_TWO_WAY") === "1",
  probePeriodMs: 100,
};
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
