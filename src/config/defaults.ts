import {
  SETTING_NAMES,
  type SettingName,
  SETTINGS_TABLE,
  type SettingSpec,
  type TableSettings,
} from "./settings_table.ts";
import type { Settings } from "./types.ts";

/** Adds the derived settings (minimum rates) to table settings. */
export function deriveSettings(table: TableSettings): Settings {
  return {
    ...table,
    min_ul_rate: Math.floor(table.base_ul_rate * table.ul_min_percent / 100),
    min_dl_rate: Math.floor(table.base_dl_rate * table.dl_min_percent / 100),
  };
}

/**
 * Every setting at its table default, with `overrides` applied, derived values computed. For
 * tests, the simulator and benchmarks; the daemon resolves real sources instead.
 */
export function settingsWithDefaults(overrides: Partial<TableSettings> = {}): Settings {
  const values = Object.fromEntries(SETTING_NAMES.map((n) => [n, defaultValue(n)]));
  return deriveSettings({ ...(values as TableSettings), ...overrides });
}

/** A setting's table default (a fresh copy for lists). */
export function defaultValue(name: SettingName): string | number | boolean | string[] {
  const d: SettingSpec["default"] = SETTINGS_TABLE[name].default;
  return Array.isArray(d) ? [...d] : d as string | number | boolean;
}
