/**
 * Loads wasmoon from the embedded bundle of src/lua/wasmoon_entry.ts through a `blob:` URL (no
 * read permission needed), once per process or worker. A bundler inlines every module imported by
 * name, with the `node:` imports of wasmoon's glue hoisted to the top of the program, so wasmoon
 * is never imported by name: only a program that starts a Lua engine loads it
 * (docs/footprint.md).
 */
import { decodeGzipBase64 } from "./gzip_base64.ts";

/** The embedded bundle's module. */
export type WasmoonModule = typeof import("./wasmoon_entry.ts");

let loaded: Promise<WasmoonModule> | undefined;

/** wasmoon and its starter from `chunks` (the embedded bundle), imported on first use. */
export function loadWasmoon(chunks: readonly string[]): Promise<WasmoonModule> {
  loaded ??= (async () => {
    const script = await decodeGzipBase64(chunks);
    const url = URL.createObjectURL(
      new Blob([script as Uint8Array<ArrayBuffer>], { type: "text/javascript" }),
    );
    try {
      return await import(url) as WasmoonModule;
    } finally {
      URL.revokeObjectURL(url);
    }
  })();
  return loaded;
}
