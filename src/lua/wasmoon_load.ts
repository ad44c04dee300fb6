/**
 * Loads wasmoon from the embedded bundle of src/lua/wasmoon_entry.ts, once per process or worker.
 * A bundler inlines every module imported by name, with the `node:` imports of wasmoon's glue
 * hoisted to the top of the program, so wasmoon is never imported by name: only a program that
 * starts a Lua engine loads it (docs/footprint.md).
 *
 * The bundle is stored as the body of a function that returns the module's exports
 * (src/lua/gen_worker_bundle.ts), run here with `new Function`. Imported as a module from a
 * `blob:` URL, as before, it left about 3 MB more anonymous memory in the daemon
 * (docs/footprint.md, "Lua").
 */
import { decodeGzipBase64 } from "./gzip_base64.ts";

/** The embedded bundle's module. */
export type WasmoonModule = typeof import("./wasmoon_entry.ts");

let loaded: Promise<WasmoonModule> | undefined;

/** wasmoon and its starter from `chunks` (the embedded bundle), evaluated on first use. */
export function loadWasmoon(chunks: readonly string[]): Promise<WasmoonModule> {
  loaded ??= (async () => {
    const body = new TextDecoder().decode(await decodeGzipBase64(chunks));
    return new Function(body)() as WasmoonModule;
  })();
  return loaded;
}
