/**
 * While the pool is known to hold bad reflectors, a reselection's draw takes those judged sound
 * first (v72c; docs/controllers.md, "v72: reflector selection under faults"). A reselection that
 * draws at random brings in reflectors not judged yet, some of them jittery, which vote until the
 * spread rule has judged them (15–20 s). v70d took sound ones first always and moved clean runs
 * (a clean pool stops rotating); v71g limited the not-judged ones only, and so preferred judged
 * peers whose share was still under the limit, jittery ones among them. Here only reflectors
 * judged sound come first, and only while some reflector followed has a share over the limit
 * (`ReflectorSpread.preferred`); otherwise the shuffle's order stands.
 */

/**
 * `ranked` (already shuffled) with the reflectors for which `prefer` holds first, each group in
 * its given order.
 */
export function soundFirst(ranked: readonly string[], prefer: (ip: string) => boolean): string[] {
  const first: string[] = [];
  const rest: string[] = [];
  for (const ip of ranked) (prefer(ip) ? first : rest).push(ip);
  return first.concat(rest);
}
