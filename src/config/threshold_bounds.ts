/**
 * The range a delay threshold (`ul/dl_max_delta_owd`, ms) may take: the settings table accepts
 * it and the control core clamps a plugin's value into it (src/control/rate_bounds.ts). Kept
 * apart from the settings table so the Lua worker's bundle (src/lua/gen_worker_bundle.ts) does
 * not carry, and go stale with, the whole table.
 */

/** Inclusive bounds of a delay threshold, ms. */
export const DELTA_OWD_BOUNDS_MS = { min: 0.1, max: 10_000 } as const;
