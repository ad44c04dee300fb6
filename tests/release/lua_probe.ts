/**
 * Lua probe: loads the shipped Lua ratecontroller and a plugin the way `check-config` does (which
 * starts wasmoon from the embedded wasm), and prints `lua ok` or the problems. Run under
 * `-P=daemon`, as source and bundled, it shows the Lua engine needs no permission beyond the
 * manifest and survives bundling.
 */
import { settingsWithDefaults } from "../../src/config/defaults.ts";
import { checkScripts } from "../../src/lua/mod.ts";

if (import.meta.main) {
  const settings = settingsWithDefaults({
    base_ul_rate: 20000,
    base_dl_rate: 100000,
    rate_controller: "builtin:ewma",
    plugin_scripts: ["builtin:log_readings"],
    // This probe is about permissions, not speed: a loaded machine must not time it out.
    lua_time_limit_ms: 2000,
  });
  const problems = await checkScripts(settings);
  console.log(problems.length === 0 ? "lua ok" : `lua problems: ${problems.join("; ")}`);
  Deno.exit(problems.length === 0 ? 0 : 1);
}
