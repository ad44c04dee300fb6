/**
 * Which counter measures which direction (docs/algorithm.md §7.5): upstream swaps rx/tx on IFB and
 * veth devices (Lua patterns `^ifb.+` / `^veth.+`); the settings `dl_counter`/`ul_counter`
 * override it.
 */
import type { CounterSide } from "./types.ts";

/** True for names upstream treats as virtual shaping devices (prefix plus ≥ 1 character). */
export function isIfbOrVeth(ifname: string): boolean {
  return /^ifb.+/.test(ifname) || /^veth.+/.test(ifname);
}

/** The counter to read on each interface. */
export function counterDirections(settings: {
  dl_if: string;
  ul_if: string;
  dl_counter: "auto" | "rx" | "tx";
  ul_counter: "auto" | "rx" | "tx";
}): { dl: CounterSide; ul: CounterSide } {
  const dl = settings.dl_counter !== "auto"
    ? settings.dl_counter
    : isIfbOrVeth(settings.dl_if)
    ? "tx"
    : "rx";
  const ul = settings.ul_counter !== "auto"
    ? settings.ul_counter
    : isIfbOrVeth(settings.ul_if)
    ? "rx"
    : "tx";
  return { dl, ul };
}
