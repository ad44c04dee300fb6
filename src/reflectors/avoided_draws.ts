/**
 * A reselection cycle does not probe avoided reflectors it drew anew (v72a; docs/controllers.md,
 * "v72: reflector selection under faults"). v65 left them out only when ranking, after the cycle
 * had probed them for tick × π: meanwhile every candidate is a peer, and an avoided (jittery)
 * one votes in the controller. The current peers stay candidates even when avoided, so that the
 * control loop still sees as many fresh peers while the new draws have not answered yet (v71).
 * Left out, an avoided reflector cannot show that it answers: a cycle in which fewer than
 * `num_reflectors` candidates answered probes the ones it left out too, for another tick × π,
 * before it decides (v71: otherwise it drew reflectors that never answered, the loop asked again
 * at once, and the cycles followed each other until the avoided ones were forgotten).
 */

/** A cycle's candidates split into those it probes first and the avoided ones it holds back. */
export interface SplitDraws {
  /** The current peers (avoided or not) and the new draws that are not avoided, in order. */
  probe: string[];
  /** New draws that are avoided: probed only when too few of `probe` answer. */
  held: string[];
}

/**
 * Splits `candidates` (current peers first, then new draws, as `buildCandidates` gives them):
 * new draws for which `avoid` holds are held back; the current peers always stay.
 */
export function holdAvoidedDraws(
  candidates: readonly string[],
  o: { peers: readonly string[]; avoid: (ip: string) => boolean },
): SplitDraws {
  const current = new Set(o.peers);
  const probe: string[] = [];
  const held: string[] = [];
  for (const ip of candidates) {
    if (!current.has(ip) && o.avoid(ip)) held.push(ip);
    else probe.push(ip);
  }
  return { probe, held };
}
