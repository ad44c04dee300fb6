/**
 * Reflectors late behind a queue on our own link (docs/controllers.md, "v66"). A FIFO that
 * fills within a second holds every reply longer than the freshness window, so the peers go
 * stale together while the replies that still arrive show the queue; a new set would be as late,
 * and a peer that joins mid-queue takes the queue into its baseline. While the newest replies
 * show an added delay Q of at least `minDelayMs`, a stale peer whose last reply is younger than
 * the window plus `ageFactor` × Q is counted as late, not gone; a peer silent for longer, or
 * silent while the replies show no queue (a dead reflector, a lost route), is not.
 */
import type { OwdEntry, OwdState } from "./ports.ts";
import { freshWindowS, rttDeltaMs } from "./deltas.ts";

/** What makes a stale peer late rather than gone. */
export interface LateParams {
  /** The queue shown by the newest replies (added round-trip delay) at least, ms. */
  minDelayMs: number;
  /** Late while the peer's last reply is younger than the window plus this many times the queue. */
  ageFactor: number;
}

/** Defaults (docs/controllers.md, "v66"). */
export const LATE_DEFAULTS: LateParams = { minDelayMs: 250, ageFactor: 2 };

/**
 * The number of current peers that are stale (last reply at least `freshWindowS` old) but
 * late behind the queue the newest replies show: the largest added round-trip delay of the fresh
 * peers' last replies, or of the newest reply when none is fresh.
 */
export function lateReflectors(
  owd: OwdState,
  nowS: number,
  options: { tickInterval: number; params?: LateParams },
): number {
  const p = options.params ?? LATE_DEFAULTS;
  const window = freshWindowS(options.tickInterval);
  const peers: { ageS: number; delayMs: number }[] = [];
  for (const ip of owd.peers) {
    const base = owd.baseline.get(ip);
    const recent = owd.recent.get(ip);
    if (base === undefined || recent === undefined) continue;
    const last: OwdEntry = owd.latest?.get(ip) ?? recent;
    peers.push({
      ageS: nowS - recent.last_receive_time_s,
      delayMs: rttDeltaMs(last, base),
    });
  }
  if (peers.length === 0) return 0;
  const fresh = peers.filter((x) => x.ageS < window);
  const queueMs = fresh.length > 0
    ? Math.max(...fresh.map((x) => x.delayMs))
    : peers.reduce((a, b) => (b.ageS < a.ageS ? b : a)).delayMs;
  if (!(queueMs >= p.minDelayMs)) return 0;
  const limitS = window + (p.ageFactor * queueMs) / 1000;
  return peers.filter((x) => x.ageS >= window && x.ageS < limitS).length;
}
