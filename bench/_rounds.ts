/** The order of the daemons within a round of `bench/footprint.ts`. */

/**
 * The entries of `round` (from 1) in the order they run: as given, or with `alternate` reversed in
 * every even round. The first daemon of a round has measured high (docs/footprint.md, "Twenty-fifth
 * session": the same code twice, +0.47 points first), so alternating puts each side first in half
 * of the rounds.
 */
export function roundOrder<T>(
  entries: readonly T[],
  options: { round: number; alternate: boolean },
): T[] {
  return options.alternate && options.round % 2 === 0 ? [...entries].reverse() : [...entries];
}
