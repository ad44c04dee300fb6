/**
 * CommonJS globals for npm code bundled into one ES module (`deno bundle`, `deno compile
 * --bundle`). wasmoon's emscripten glue reads `__filename` while its module is evaluated, to find
 * glue.wasm beside itself. Deno defines it for npm packages loaded as CommonJS, but not inside an
 * ES module bundle, where the bare name throws a ReferenceError at start-up. The value is never
 * used to read anything (engine.ts serves the wasm from memory), so it names a path that
 * does not exist. engine.ts imports it before wasmoon.
 *
 * In a worker started from a `blob:` URL (the embedded Lua worker, src/lua/worker_bundle.ts)
 * `location` is that URL, and the glue would build a CommonJS `require` from it, which fails;
 * hiding `location` makes it take `__filename` as in a process.
 */
const g = globalThis as { __filename?: unknown; __dirname?: unknown };
if (typeof g.__filename !== "string") g.__filename = "/sqm-autorate-bundle/index.js";
if (typeof g.__dirname !== "string") g.__dirname = "/sqm-autorate-bundle";

const where = (globalThis as { location?: { href?: string } }).location?.href ?? "";
if (where.startsWith("blob:") || where.startsWith("data:")) {
  Object.defineProperty(globalThis, "location", { value: undefined, configurable: true });
}

export {};
