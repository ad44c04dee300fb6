/**
 * A reselection cycle's probes within issue 11's 20 a second (docs/controllers.md, "v86"). A cycle
 * probes the current peers and up to 20 new draws from the pool; probing them all every tick, as
 * upstream does, sent 52 echo requests a second for tick × π with the embedded list (26
 * candidates at 0.5 s). When the candidates at the tick would exceed `MAX_PROBES_PER_S`, the
 * current peers keep their child and the tick (the control loop's samples are untouched), and the
 * new draws are probed apart at the rest of the 20 a second less one probe a child for fping's
 * rounding (`drawsApart`, for a short pool's cycle (v82) too), for one of their periods more than
 * tick × π: each draw is probed once at least; the selected peers are awaited, not missing, for 3
 * ticks after it (`AWAITED_TICKS`, `ReflectorSelector`).
 */
import { CHILD_JITTER_PROBES, MAX_PROBES_PER_S } from "./short_pool.ts";
import type { SlowProbes } from "./silent_watch.ts";

/**
 * The longest draw period, s. The default tick leaves the draws 2.5–3.3 s; a shorter tick whose
 * peers alone fill the 20 a second (0.2 s: 25) would leave them 1 a second, a 15 s cycle in which
 * the loop finds too few fresh reflectors: such a configuration sends more than 20 a second anyway,
 * and its cycle stays within tick × π and this (docs/controllers.md, "v86").
 */
export const MAX_DRAW_PERIOD_S = 4;

/** New draws probed apart, and how long their cycle probes. */
export interface DrawsApart {
  /** The draws and their period each. */
  readonly slow: SlowProbes;
  /** How long the cycle probes before it ranks, s: tick × π and one draw period. */
  readonly windowS: number;
}

/**
 * The one budget of a cycle's new `draws` probed apart (a cycle beyond the 20 a second, and every
 * short pool's cycle, v82): beside `otherPerS` probes a second from `otherChildren` pinger children
 * (the peers', a short pool's watch that probed until the cycle began), each draw is probed at
 * the rest of `MAX_PROBES_PER_S` less `CHILD_JITTER_PROBES` for every child, the draws' own too;
 * no faster than once a tick and no slower than `MAX_DRAW_PERIOD_S` (nor than the tick, if
 * longer). The cycle ranks after tick × π and one draw period: each draw is probed once at least
 * (docs/controllers.md, "v86, continued").
 */
export function drawsApart(
  draws: readonly string[],
  o: { tickS: number; otherPerS: number; otherChildren: number },
): DrawsApart {
  const jitter = (o.otherChildren + 1) * CHILD_JITTER_PROBES;
  const room = Math.max(1, MAX_PROBES_PER_S - o.otherPerS - jitter);
  const periodS = Math.max(o.tickS, Math.min(MAX_DRAW_PERIOD_S, draws.length / room));
  return { slow: { reflectors: draws, periodS }, windowS: o.tickS * Math.PI + periodS };
}

/** How a cycle's candidates are probed, and for how long. */
export interface CycleProbes {
  /** Probe period of the candidates not in `slow`, s: the tick. */
  readonly periodS: number;
  /** The new draws probed apart (none while the candidates fit in the 20 a second). */
  readonly slow?: SlowProbes;
  /** How long the cycle probes before it ranks, s: tick × π, and the draws' period if apart. */
  readonly windowS: number;
}

/**
 * The probes of a cycle over `candidates` (the current `peers` first, then the new draws) at
 * tick `tickS`: all at the tick for tick × π while that is at most `MAX_PROBES_PER_S` (one fping
 * child, its interval the period / N: 10 at 0.5 s send at most 20 in any 1 s on the wire); else
 * the peers at the tick in their child and the draws apart (`drawsApart`).
 */
export function cycleProbes(
  candidates: readonly string[],
  o: { peers: readonly string[]; tickS: number },
): CycleProbes {
  const all = { periodS: o.tickS, windowS: o.tickS * Math.PI };
  if (candidates.length / o.tickS <= MAX_PROBES_PER_S) return all;
  const peers = new Set(o.peers);
  const kept = candidates.filter((ip) => peers.has(ip));
  const draws = candidates.filter((ip) => !peers.has(ip));
  if (draws.length === 0) return all;
  const apart = drawsApart(draws, {
    tickS: o.tickS,
    otherPerS: kept.length / o.tickS,
    otherChildren: 1,
  });
  return { periodS: o.tickS, ...apart };
}
