/**
 * How a value a Lua script returned is named in a warning (docs/plugins.md, "Results"): in the
 * words a Lua author writes, never JavaScript's (`Infinity`, `NaN`: until the thirty-first session
 * "next_ul_rate is Infinity; ignored" for a plugin that returned `math.huge`). The one formatter of
 * every such warning (src/lua/bridge.ts).
 */

/** A number as a Lua author reads it: non-finite ones say what they are and how Lua spells them. */
export function numberText(v: number): string {
  if (Number.isNaN(v)) return "not a number (nan, as 0/0 gives)";
  if (v === Infinity) return "infinite (inf, math.huge)";
  if (v === -Infinity) return "minus infinite (-inf, -math.huge)";
  return String(v);
}

/**
 * A result as the bridge hands it over (a number, a boolean, a string, `"<type>"` for a value of
 * another Lua type, null for nil) named with its article: `a table`, `nothing (nil)`, a number as
 * {@link numberText} names it.
 */
export function valueText(v: number | string | boolean | null | { type: string }): string {
  if (v === null) return "nothing (nil)";
  if (typeof v === "number") return numberText(v);
  if (typeof v === "boolean") return "a boolean";
  if (typeof v === "string") {
    if (v === "<nil>") return "nothing (nil)";
    return v.startsWith("<") ? `a ${v.slice(1, -1)}` : "a string";
  }
  return `a ${v.type}`;
}
