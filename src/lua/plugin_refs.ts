/**
 * Which plugins are configured, apart from src/lua/config.ts so the Lua worker's bundle
 * (src/lua/gen_worker_bundle.ts) carries no more of the program than it runs.
 */
import type { Settings } from "../config/types.ts";

/** One configured plugin reference and the setting it came from (named by its errors). */
export interface PluginRef {
  /** `plugin_ratecontrol` or `plugin_scripts`. */
  setting: "plugin_ratecontrol" | "plugin_scripts";
  /** The reference, trimmed. */
  ref: string;
}

/** The configured plugin references in run order with their settings (see {@link pluginRefs}). */
export function pluginRefsWithSettings(settings: Settings): PluginRef[] {
  const refs: PluginRef[] = [];
  const ratecontrol = settings.plugin_ratecontrol.trim();
  if (ratecontrol !== "") refs.push({ setting: "plugin_ratecontrol", ref: ratecontrol });
  for (const s of settings.plugin_scripts) {
    if (s.trim() !== "") refs.push({ setting: "plugin_scripts", ref: s.trim() });
  }
  return refs;
}

/** The configured plugin references in run order: `plugin_ratecontrol` first, then the list. */
export function pluginRefs(settings: Settings): string[] {
  return pluginRefsWithSettings(settings).map((r) => r.ref);
}
