/**
 * Lua probe: loads the shipped Lua ratecontroller and a plugin the way `check-config` does (which
 * starts wasmoon from the embedded wasm), then runs one tick through both in the daemon's one
 * Lua worker as the daemon does, and prints `lua ok` or the problems (running Lua on this thread
 * instead, for want of a worker, is one). Run under `-P=daemon`, as source and bundled, it shows
 * the Lua engine and its worker need no permission beyond the manifest and survive bundling.
 */
import { settingsWithDefaults } from "../../src/config/defaults.ts";
import { createOwdState } from "../../src/baseline/owd_state.ts";
import { systemClock } from "../../src/util/clock.ts";
import { syntheticTick } from "../../src/lua/check.ts";

if (import.meta.main) {
  const lua = await import("../../src/lua/mod.ts");
  const settings = settingsWithDefaults({
    base_ul_rate: 20000,
    base_dl_rate: 100000,
    rate_controller: "builtin:ewma",
    plugin_scripts: ["builtin:log_readings"],
    // This probe is about permissions, not speed: a loaded machine must not time it out.
    lua_time_limit_ms: 2000,
    lua_isolation: "worker",
  });
  const problems = await lua.checkScripts(settings);
  const warnings: string[] = [];
  const logger = {
    info() {},
    debug() {},
    warn: (_: string, p: { text: string }) => warnings.push(p.text),
    warning() {},
    error() {},
    trace() {},
  };
  try {
    const daemonLua = await lua.startDaemonLua({
      settings,
      clock: systemClock,
      logger: logger as never,
    });
    const plugins = daemonLua.plugins;
    const controller = await daemonLua.ratecontroller({
      settings,
      clock: systemClock,
      random: Math.random,
      logger: logger as never,
      owd: createOwdState(),
      reselect: { requestReselect: () => {} },
    });
    if (!(controller instanceof lua.IsolatedRatecontroller)) {
      problems.push("controller not in a worker");
    }
    if (!(plugins instanceof lua.IsolatedPlugins)) problems.push("plugins not in a worker");
    const tick = syntheticTick(settings);
    const d = await controller.decide(tick);
    await plugins?.adjust({ ...tick, ...d });
    if (!(d.next_dl_rate > 0) || plugins?.active.length !== 1) {
      problems.push(`workers: decision ${JSON.stringify(d)}, plugins ${plugins?.active}`);
    }
    controller.close?.();
    plugins?.close?.();
  } catch (e) {
    problems.push(`workers: ${(e as Error).message}`);
  }
  problems.push(...warnings);
  console.log(problems.length === 0 ? "lua ok" : `lua problems: ${problems.join("; ")}`);
  Deno.exit(problems.length === 0 ? 0 : 1);
}
