/**
 * A base rate that reads like Mbit/s typed where kbit/s is meant (`upload_base_kbits '20'` for a
 * 20 Mbit/s line). It is accepted, since links that slow exist, but warned about: the daemon would
 * hold that direction at or below a few hundred kbit/s, and nothing else would say why the line
 * crawls (docs/operation.md, "Rates in Mbit/s where kbit/s is meant").
 */
import { type SettingName, specOf, type TableSettings } from "./settings_table.ts";
import { describeSource, type SettingSource } from "./sources.ts";
import { UNCAPPED_BASE_FACTOR } from "./rate_ceiling.ts";

/** Base rates below this many kbit/s (1 Mbit/s) are warned about. */
export const SLOW_BASE_KBITS = 1000;

const DIRECTIONS = [
  { base: "base_ul_rate", max: "max_ul_rate" },
  { base: "base_dl_rate", max: "max_dl_rate" },
] as const;

/** One warning per base rate below {@link SLOW_BASE_KBITS}, naming its source and the fix. */
export function slowBaseRateWarnings(
  v: TableSettings,
  sources: Record<SettingName, SettingSource>,
): string[] {
  const warnings: string[] = [];
  for (const d of DIRECTIONS) {
    const base = v[d.base];
    // 0 is the unset placeholder of a required setting (its own error says so).
    if (base <= 0 || base >= SLOW_BASE_KBITS) continue;
    const ceiling = v[d.max] > 0 ? v[d.max] : UNCAPPED_BASE_FACTOR * base;
    const option = specOf(d.base).uci?.[1] ?? d.base;
    warnings.push(
      `${d.base} (${describeSource(sources[d.base])}): ${base} kbit/s is ${base / 1000} ` +
        `Mbit/s, and the rate will stay at or below ${ceiling} kbit/s; ${option} is in ` +
        `kbit/s, so a ${base} Mbit/s line is ${base * 1000}`,
    );
  }
  return warnings;
}
