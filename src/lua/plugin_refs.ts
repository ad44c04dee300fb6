/**
 * Which plugins are configured, apart from src/lua/config.ts so the Lua worker's bundle
 * (src/lua/gen_worker_bundle.ts) carries no more of the program than it runs.
 */
import type { Settings } from "../config/types.ts";

/** The configured plugin references in run order: `plugin_ratecontrol` first, then the list. */
export function pluginRefs(settings: Settings): string[] {
  const refs: string[] = [];
  if (settings.plugin_ratecontrol.trim() !== "") refs.push(settings.plugin_ratecontrol.trim());
  for (const s of settings.plugin_scripts) if (s.trim() !== "") refs.push(s.trim());
  return refs;
}
