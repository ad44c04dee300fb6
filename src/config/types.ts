import type { TableSettings } from "./settings_table.ts";

/**
 * The effective settings: every table setting plus values derived from them (upstream's
 * derived names). Fixed upstream constants that are not configurable live in the modules that
 * use them.
 */
export interface Settings extends TableSettings {
  /** floor(base_ul_rate × ul_min_percent / 100), kbit/s. */
  min_ul_rate: number;
  /** floor(base_dl_rate × dl_min_percent / 100), kbit/s. */
  min_dl_rate: number;
}
