/**
 * An idle threshold a loaded link cannot leave idle mode over. Idle mode ends at the first reading
 * with a direction at or above `idle_threshold`, and a direction delivers at most the rate held
 * while idle (`idle_rate`: the base rate, or the minimum for `min`, and for `leave` at worst): with
 * the threshold at or above that rate, a load in that direction alone never ends it, and the daemon
 * holds the rate without measuring while the load goes on (simulated, the threshold above every
 * rate: p95 500 ms; docs/footprint.md, "Idle mode"). Warned, not refused: a line so slow that its
 * rate is under the default threshold is a setting to look at, not always an error.
 */
import { deriveSettings } from "./defaults.ts";
import type { SettingName, TableSettings } from "./settings_table.ts";
import { describeSource, type SettingSource } from "./sources.ts";

/** One warning when idle mode is on and `idle_threshold` is not below a direction's idle rate. */
export function idleThresholdWarnings(
  v: TableSettings,
  sources: Record<SettingName, SettingSource>,
): string[] {
  // 0 is the unset placeholder of a required base rate (its own error says so).
  if (!v.idle_mode || v.base_ul_rate <= 0 || v.base_dl_rate <= 0) return [];
  const d = deriveSettings(v);
  const base = v.idle_rate === "base";
  const held: [string, number][] = [
    ["upload", base ? v.base_ul_rate : d.min_ul_rate],
    ["download", base ? v.base_dl_rate : d.min_dl_rate],
  ];
  const low = held.filter(([, rate]) => v.idle_threshold >= rate);
  if (low.length === 0) return [];
  const rates = low.map(([dir, rate]) => `the ${dir}'s ${rate}`).join(" and ");
  const what = base ? "base rate" : "minimum rate";
  return [
    `idle_threshold (${describeSource(sources.idle_threshold)}): ${v.idle_threshold} kbit/s is ` +
    `not below ${rates} kbit/s ${what}, the most a direction delivers while idle (idle_rate ` +
    `${v.idle_rate}): under a load in that direction alone idle mode never ends, the rate held ` +
    `and nothing measured; use a threshold under ${Math.min(...held.map(([, r]) => r))} kbit/s ` +
    `(the default is 200) or idle_mode 0`,
  ];
}
