/**
 * Imports the Lua engine's module on first use (src/lua/config.ts says when it is needed). Kept
 * apart so that nothing the engine imports depends on this dynamic import.
 */

/** The Lua engine's module. */
export type LuaModule = typeof import("./mod.ts");

/** Imports the Lua engine's module. */
export function loadLua(): Promise<LuaModule> {
  return import("./mod.ts");
}

/** The daemon's side of the Lua worker (the engine itself loads in the worker). */
export type LuaHostModule = typeof import("./isolated.ts");

/** Imports the Lua worker host (src/lua/isolated.ts) without the engine. */
export function loadLuaHost(): Promise<LuaHostModule> {
  return import("./isolated.ts");
}
