/**
 * The shapers as the control loop sees them while the daemon stops (docs/operation.md, "Stopping
 * while the router does not answer"): once the shutdown signal has come, a change a tick still
 * asks is not made, and the exit rate, which comes next and replaces it, is. The daemon's sleep
 * between ticks may block its thread, so a SIGTERM that arrives then is seen inside the next tick:
 * a change that tick asked went to a router that stopped answering as the exit rate does (its
 * shapers try whatever the counter session says), outside the exit rate's budget, for a new
 * session's first answer and a spawned `ssh … tc` after it (20 s: the stop took 27.5 s).
 */
import type { ShaperPair } from "../control/ports.ts";
import { mapShaperPair, shaperWith } from "../control/shaper_wrap.ts";

/**
 * `shapers` whose `setRate` resolves at once without a change while `skip()` holds (the daemon
 * stopping and the exit rate not yet asked). The loop then takes the rate as made; its exit rate
 * marks both rates to be set whatever it took (`ControlLoop.setRates`).
 */
export function gatedForStop(shapers: ShaperPair, skip: () => boolean): ShaperPair {
  return mapShaperPair(
    shapers,
    (s) => shaperWith(s, { setRate: (kbit) => skip() ? Promise.resolve() : s.setRate(kbit) }),
  );
}
