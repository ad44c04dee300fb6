/**
 * The one sanity clamp for shaper rates and delay thresholds. Every rate, whatever decided it
 * (controller, Lua script, plugin, start-up, exit rate), passes `clampRate` before it reaches a
 * shaper, and the `tc` shapers pass it through `hardClampRate` once more (docs/rate_bounds.md).
 */
import type { Settings } from "../config/types.ts";
import { DELTA_OWD_BOUNDS_MS } from "../config/threshold_bounds.ts";
import { UNCAPPED_BASE_FACTOR } from "../config/rate_ceiling.ts";

/** Lowest rate ever set, kbit/s: CAKE reads a bandwidth of 0 as "unlimited". */
export const MIN_RATE_KBIT = 1;
/** Highest rate ever set, kbit/s (100 Gbit/s, the largest base rate a setting accepts). */
export const HARD_MAX_RATE_KBIT = 100_000_000;

/** Inclusive bounds of one direction's rate, kbit/s. */
export interface RateBounds {
  /** Lowest rate (≥ `MIN_RATE_KBIT`). */
  min: number;
  /** Highest rate (≥ `min`, ≤ `HARD_MAX_RATE_KBIT`). */
  max: number;
}

/** The bounds that hold whatever the settings: what may reach `tc` at all. */
export const HARD_RATE_BOUNDS: RateBounds = { min: MIN_RATE_KBIT, max: HARD_MAX_RATE_KBIT };

/**
 * Bounds of one direction: the minimum rate (never below 1 kbit/s, so `base 50, min 1 %` gives
 * 1, not 0), and the max setting, or `UNCAPPED_BASE_FACTOR` × base when it is 0; never above
 * the hard ceiling.
 */
export function rateBounds(
  settings: Pick<
    Settings,
    "min_dl_rate" | "min_ul_rate" | "max_dl_rate" | "max_ul_rate" | "base_dl_rate" | "base_ul_rate"
  >,
  direction: "dl" | "ul",
): RateBounds {
  const [min, cap, base] = direction === "dl"
    ? [settings.min_dl_rate, settings.max_dl_rate, settings.base_dl_rate]
    : [settings.min_ul_rate, settings.max_ul_rate, settings.base_ul_rate];
  const lo = Math.min(HARD_MAX_RATE_KBIT, Math.max(MIN_RATE_KBIT, Math.ceil(finiteOr(min, 0))));
  const ceiling = cap > 0 ? cap : UNCAPPED_BASE_FACTOR * finiteOr(base, 0);
  const hi = Math.min(HARD_MAX_RATE_KBIT, Math.max(lo, Math.floor(finiteOr(ceiling, 0))));
  return { min: lo, max: hi };
}

/**
 * Puts a proposed rate into `bounds` and floors it to whole kbit/s. A proposal that is not a
 * finite number keeps `fallback` (itself clamped), e.g. the rate in force.
 */
export function clampRate(next: number, bounds: RateBounds, fallback: number): number {
  const v = Number.isFinite(next) ? next : fallback;
  if (!Number.isFinite(v)) return bounds.min;
  return Math.floor(Math.min(bounds.max, Math.max(bounds.min, v)));
}

/** `clampRate` with the hard bounds only, for the shapers that know no settings. */
export function hardClampRate(kbit: number): number {
  if (!Number.isFinite(kbit)) throw new RangeError(`invalid rate ${kbit} kbit/s`);
  return clampRate(kbit, HARD_RATE_BOUNDS, kbit);
}

/** Inclusive bounds of a delay threshold (ms): the range the settings accept. */
export const THRESHOLD_BOUNDS_MS: { min: number; max: number } = {
  min: DELTA_OWD_BOUNDS_MS.min,
  max: DELTA_OWD_BOUNDS_MS.max,
};

/** Puts a delay threshold (ms) into `THRESHOLD_BOUNDS_MS`; a non-finite one keeps `fallback`. */
export function clampThreshold(ms: number, fallback: number): number {
  const v = Number.isFinite(ms) ? ms : fallback;
  return Math.min(THRESHOLD_BOUNDS_MS.max, Math.max(THRESHOLD_BOUNDS_MS.min, v));
}

function finiteOr(v: number, fallback: number): number {
  return Number.isFinite(v) ? v : fallback;
}
