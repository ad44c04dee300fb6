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
