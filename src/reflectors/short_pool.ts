/**
 * A pool that cannot supply `num_reflectors` live reflectors (docs/controllers.md, "v76"). While
 * fewer than `num_reflectors` peers are fresh the control loop asks for a reselection at every
 * decision, and the selector used to answer with a cycle every tick × π, restarting the pinger
 * and drawing dead reflectors again (their last RTT ranks them). A cycle in which some but fewer
 * than `num_reflectors` candidates answered now keeps exactly those, waits before the next
 * cycle as after a cycle without answers, and the pinger probes them more often, so that the
 * samples a second stay those of `num_reflectors` peers without the churn.
 */

/**
 * How much faster than once per tick a peer of a short set may be probed: twice upstream's rate
 * per reflector (4/s at the default tick of 0.5 s; docs/controllers.md, "v76").
 */
export const MAX_PROBE_SPEEDUP = 2;

/**
 * The probe period per reflector, s, for a set of `peers` reflectors when `numReflectors` are
 * wanted: `tickS` for a full set (or none), else the period that keeps `numReflectors / tickS`
 * probes a second in all, but no shorter than `tickS / MAX_PROBE_SPEEDUP`.
 */
export function shortSetPeriodS(
  tickS: number,
  o: { peers: number; numReflectors: number },
): number {
  if (o.peers <= 0 || o.peers >= o.numReflectors) return tickS;
  return tickS * Math.max(o.peers / o.numReflectors, 1 / MAX_PROBE_SPEEDUP);
}

/** The most probes a second the daemon sends (issue 11). */
export const MAX_PROBES_PER_S = 20;

/**
 * The probes one pinger child may send above its nominal rate within a 1 s window: fping's
 * `--interval` is the period / N in whole ms, and rounded down (500 / 6 → 83 ms) it bunches each
 * round, so that six targets every 500 ms sent 13 in a window (docs/controllers.md, "v86").
 */
export const CHILD_JITTER_PROBES = 1;
