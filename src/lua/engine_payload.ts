/**
 * The Lua engine's two embedded payloads: glue.wasm and the wasmoon bundle (gzip, base64 in
 * chunks). On the daemon's thread they are imported on first use; the Lua worker is handed them by
 * its host with its first `load` message, so the worker's embedded bundle carries no second copy
 * of them: the program's source stays about 190 kB smaller, which the running daemon holds several
 * times over (docs/footprint.md, "No Node layer").
 */

/** glue.wasm and the wasmoon bundle, gzip, base64 in chunks. */
export interface EnginePayload {
  /** src/lua/glue_wasm.ts's chunks. */
  readonly glueWasm: readonly string[];
  /** src/lua/wasmoon_bundle.ts's chunks. */
  readonly wasmoon: readonly string[];
}

let given: EnginePayload | undefined;

/** Hands the payloads to this thread's engine (the worker's, from its host). */
export function provideEnginePayload(payload: EnginePayload): void {
  given = payload;
}

/** The payloads: those handed over, else the embedded modules (imported on first use). */
export async function enginePayload(): Promise<EnginePayload> {
  if (given !== undefined) return given;
  const [glue, wasmoon] = await Promise.all([
    import("./glue_wasm.ts"),
    import("./wasmoon_bundle.ts"),
  ]);
  given = { glueWasm: glue.GLUE_WASM_GZIP_BASE64, wasmoon: wasmoon.WASMOON_GZIP_BASE64 };
  return given;
}
