/**
 * The order a new multi-target pinger child (fping, tsping) gets its targets in. Such a child
 * probes its targets in turn, `period / N` apart, so the last of N gets its first reply about a
 * period after the spawn; a peer kept across a switch whose last reply under the old child was
 * almost a period old would then go two periods without one, and a peer is fresh only for two
 * (docs/algorithm.md §5). Oldest reply first levels that out: each kept peer's gap is then about
 * one period (docs/footprint.md, "Nineteenth session: a pinger switch within its tick").
 */

/**
 * `targets` ordered by the time of their last reply (`lastReplyS`), oldest first; targets never
 * heard (new draws, not fresh either way) go last, in their given order, so that they do not delay
 * the kept peers.
 */
export function probeOrder(
  targets: readonly string[],
  lastReplyS: ReadonlyMap<string, number>,
): string[] {
  const heard = targets.filter((ip) => lastReplyS.has(ip));
  heard.sort((a, b) => lastReplyS.get(a)! - lastReplyS.get(b)!);
  return [...heard, ...targets.filter((ip) => !lastReplyS.has(ip))];
}
