/**
 * wasmoon, started from wasm bytes held in memory: the entry of the embedded wasmoon bundle
 * (src/lua/wasmoon_bundle.ts, made by src/lua/gen_worker_bundle.ts). Only src/lua/wasmoon_load.ts
 * loads it, from a `blob:` URL, so that wasmoon and the `node:` modules its emscripten glue needs
 * (`node:fs`, `node:module`) are not part of the program's own module graph and stay out of a
 * daemon that runs no Lua (docs/footprint.md).
 */
import "./cjs_globals.ts"; // before wasmoon: bundled builds lack CommonJS globals
import fs from "node:fs";
import { LUA_REGISTRYINDEX, LuaFactory } from "wasmoon";

export { LUA_REGISTRYINDEX };

const SENTINEL_WASM_PATH = "/sqm-autorate-embedded/glue.wasm";

/**
 * A factory started from `wasm` (glue.wasm's bytes). wasmoon (emscripten, node mode) loads its
 * wasm with `fs.readFileSync(path)` and offers no way to pass bytes, so while it starts we answer
 * that one read of a sentinel path from memory; every other read is untouched.
 */
export async function startFactory(wasm: Uint8Array): Promise<LuaFactory> {
  const mutableFs = fs as unknown as { readFileSync: (...args: unknown[]) => unknown };
  const original = mutableFs.readFileSync;
  mutableFs.readFileSync = (...args: unknown[]) =>
    args[0] === SENTINEL_WASM_PATH ? wasm : original.apply(fs, args);
  try {
    const factory = new LuaFactory(SENTINEL_WASM_PATH);
    await factory.getLuaModule();
    return factory;
  } finally {
    mutableFs.readFileSync = original;
  }
}
