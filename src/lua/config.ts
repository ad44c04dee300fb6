/**
 * What the rest of the program asks about Lua without loading the engine: whether Lua scripts
 * are configured at all, which plugins, and the UCI sections scripts read. Importing this file
 * never loads wasmoon; `src/lua/mod.ts` (the engine) is imported dynamically by `load.ts`,
 * only when {@link usesLua} says so, so a daemon without Lua keeps wasmoon and its wasm out of memory.
 */
import type { Settings } from "../config/types.ts";
import { type UciFile, uciGetAll } from "../config/uci.ts";
import { isLuaRatecontroller } from "../config/ratecontroller_names.ts";
import { pluginRefs } from "./plugin_refs.ts";

/**
 * One UCI section as `settings.plugin(name)` returns it: options as strings (lists as arrays)
 * and libuci's meta keys `.name`, `.type`, `.anonymous` (boolean), `.index` (number), as the
 * UCI reader's `uciGetAll` gives them.
 */
export type UciSectionOptions = Record<string, string | string[] | boolean | number>;

/** Looks up the first UCI section of a type (see {@link pluginSectionsFrom}). */
export type PluginSections = (type: string) => UciSectionOptions | undefined;

/**
 * `settings.plugin(name)` for a UCI file: the first section of type `name` with libuci's meta
 * keys (`uciGetAll("@name[0]")`), or undefined (scripts then get an empty table). The same in
 * `run`, `check-config` and `simulate`.
 */
export function pluginSectionsFrom(uci: UciFile | undefined): PluginSections {
  return (type) => uci === undefined ? undefined : uciGetAll(uci, `@${type}[0]`);
}

/** True when a Lua ratecontroller or any plugin is configured (the engine is needed). */
export function usesLua(settings: Settings): boolean {
  return isLuaRatecontroller(settings.rate_controller.trim()) || pluginRefs(settings).length > 0;
}
