/**
 * Lua support: a sandboxed engine (wasmoon, embedded wasm, time limit, memory cap), upstream's
 * ratecontrol plugins as a {@link RateAdjuster}, and ratecontrollers written in Lua.
 *
 * - `createLuaRatecontroller(context)`: pass as `luaFactory` to `createRatecontroller`.
 * - `createPluginManager(options)`: the loop's adjuster when plugins are configured.
 * - `checkScripts(settings, options)`: for `check-config`.
 */
import type { RateAdjuster } from "../control/ratecontroller_port.ts";

export { checkScripts, type CheckScriptsOptions, syntheticTick } from "./check.ts";
export {
  createIsolatedPlugins,
  createIsolatedRatecontroller,
  IsolatedPlugins,
  IsolatedRatecontroller,
  LuaWorker,
  startDaemonLua,
} from "./isolated.ts";
export {
  createLuaRatecontroller,
  LuaRatecontroller,
  LuaRatecontrollerError,
  type LuaRatecontrollerOptions,
} from "./lua_ratecontroller.ts";
export {
  createPluginManager,
  FAILURE_WINDOW_CALLS,
  MAX_FAILURES,
  PluginManager,
  type PluginManagerOptions,
} from "./plugin_manager.ts";
export { LuaSandbox } from "./engine.ts";
export { LuaError, type LuaFailure } from "./errors.ts";
export { pluginRefs } from "./plugin_refs.ts";
export {
  type PluginSections,
  pluginSectionsFrom,
  type UciSectionOptions,
  usesLua,
} from "./config.ts";
export { builtinNames, MODULE_DIRS, resolveScript, ScriptNotFoundError } from "./scripts.ts";

/** Type-only re-export so callers can name the adjuster the manager implements. */
export type { RateAdjuster };
