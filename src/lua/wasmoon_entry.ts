/**
 * wasmoon, started from wasm bytes held in memory: the entry of the embedded wasmoon bundle
 * (src/lua/wasmoon_bundle.ts, made by src/lua/gen_worker_bundle.ts). Only src/lua/wasmoon_load.ts
 * loads it, as the body of a function, so that wasmoon is not part of the program's own module
 * graph and stays out of a daemon that runs no Lua (docs/footprint.md).
 *
 * wasmoon's emscripten glue runs in Node mode wherever it sees a Node-like `process` (Deno has
 * one), and Node mode loads `node:module`, `node:fs`, `node:path` and `node:url`, several MB of
 * Deno's Node compatibility layer. While the engine starts, it is shown a browser window instead:
 * in web mode the glue fetches its wasm from a URL, here a `blob:` URL of the embedded bytes.
 */
import "./cjs_globals.ts"; // before wasmoon: bundled builds lack CommonJS globals
import { LUA_REGISTRYINDEX, LuaFactory } from "wasmoon";

export { LUA_REGISTRYINDEX };

/** A factory started from `wasm` (glue.wasm's bytes) in the glue's web mode. */
export async function startFactory(wasm: Uint8Array): Promise<LuaFactory> {
  const url = URL.createObjectURL(
    new Blob([wasm as Uint8Array<ArrayBuffer>], { type: "application/wasm" }),
  );
  try {
    const factory = asBrowser(() => new LuaFactory(url));
    await factory.getLuaModule();
    return factory;
  } finally {
    URL.revokeObjectURL(url);
  }
}

/**
 * Runs `start` while `window` is defined and `process` is not. The glue decides its mode
 * synchronously when the factory is constructed, so both are restored before anything else runs.
 */
function asBrowser<T>(start: () => T): T {
  const g = globalThis as Record<string, unknown>;
  const process = Object.getOwnPropertyDescriptor(g, "process");
  const window = Object.getOwnPropertyDescriptor(g, "window");
  Object.defineProperty(g, "process", { value: undefined, configurable: true, writable: true });
  Object.defineProperty(g, "window", { value: g, configurable: true, writable: true });
  try {
    return start();
  } finally {
    if (process !== undefined) Object.defineProperty(g, "process", process);
    else delete g.process;
    if (window !== undefined) Object.defineProperty(g, "window", window);
    else delete g.window;
  }
}
