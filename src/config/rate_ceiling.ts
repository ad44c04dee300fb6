/**
 * The rate ceiling a direction has without a max setting, kept in the configuration stage so
 * its checks (src/config/rate_units.ts) and the control core's bounds (src/control/rate_bounds.ts)
 * read one definition (docs/rate_bounds.md).
 */

/** Without a max setting (0), a rate never exceeds this many times the base rate. */
export const UNCAPPED_BASE_FACTOR = 10;
