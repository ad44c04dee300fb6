/**
 * Lua support: a sandboxed engine (wasmoon, embedded wasm, time limit, memory cap), upstream's
 * ratecontrol plugins as a {@link RateAdjuster}, and ratecontrollers written in Lua.
 *
 * - `createLuaRatecontroller(context)`: pass as `luaFactory` to `createRatecontroller`.
 * - `createPluginManager(options)`: the loop's adjuster when plugins are configured.
 * - `checkScripts(settings, options)`: for `check-config`.
 */
import type { Settings } from "../config/types.ts";
import type { Logger } from "@logtape/logtape";
import { isLuaRatecontroller } from "../ratecontroller/mod.ts";
import type { RateAdjuster } from "../control/ratecontroller_port.ts";
import { systemClock } from "../util/clock.ts";
import { createOwdState } from "../baseline/owd_state.ts";
import { stageLogger } from "../log/mod.ts";
import { createLuaRatecontroller } from "./lua_ratecontroller.ts";
import { checkPluginScripts } from "./plugin_manager.ts";
import type { PluginSections } from "./runtime.ts";

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
  pluginRefs,
} from "./plugin_manager.ts";
export { LuaError, type LuaFailure, LuaSandbox } from "./engine.ts";
export type { UciSectionOptions } from "./bridge.ts";
export { type PluginSections, pluginSectionsFrom } from "./runtime.ts";
export { builtinNames, MODULE_DIRS, resolveScript, ScriptNotFoundError } from "./scripts.ts";

/** Type-only re-export so callers can name the adjuster the manager implements. */
export type { RateAdjuster };

/** Options of {@link checkScripts}. */
export interface CheckScriptsOptions {
  /** UCI sections for `settings.plugin(name)`. */
  pluginSections?: PluginSections;
  /** Where plugin log lines go while loading (default: the `lua` stage logger). */
  logger?: Logger;
  /** Reads script files. Default: `Deno.readTextFile`. */
  readTextFile?: (path: string) => Promise<string>;
}

/**
 * Loads every configured Lua script as the daemon would — the plugins (`plugin_ratecontrol`,
 * `plugin_scripts`) and a Lua `rate_controller` — and returns one message per problem (file
 * and line where Lua gives one). Empty: all load. `check-config` prints them and exits 1.
 */
export async function checkScripts(
  settings: Settings,
  options: CheckScriptsOptions = {},
): Promise<string[]> {
  const logger = options.logger ?? stageLogger("lua");
  const problems = await checkPluginScripts({
    settings,
    logger,
    pluginSections: options.pluginSections,
    readTextFile: options.readTextFile,
  });
  const rc = settings.rate_controller.trim();
  if (isLuaRatecontroller(rc)) {
    try {
      const controller = await createLuaRatecontroller({
        settings,
        clock: systemClock,
        random: Math.random,
        logger,
        owd: createOwdState(),
        reselect: { requestReselect: () => {} },
      }, { pluginSections: options.pluginSections, readTextFile: options.readTextFile });
      controller.close?.();
    } catch (e) {
      problems.push(`rate_controller "${rc}": ${(e as Error).message}`);
    }
  }
  return problems;
}
