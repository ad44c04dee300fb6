/**
 * The name a plugin goes by: its file name without `.lua`, or a shipped plugin's name
 * (`builtin:log_readings` → `log_readings`). Upstream `require`d a plugin by that name, so it is
 * what a Lua 5.1 `module(...)` line receives and what the plugin's UCI section is usually called
 * (docs/plugins.md).
 */
export function pluginBaseName(ref: string): string {
  return ref.replace(/^builtin:/, "").split("/").pop()!.replace(/\.lua$/i, "");
}
