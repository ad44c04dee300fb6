/**
 * Embedded binary data as gzip-compressed base64 text in chunks: the Lua engine's wasm
 * (src/lua/glue_wasm.ts) and the Lua worker's script (src/lua/worker_bundle.ts). Compressed, the
 * program carries a third of the text, and every JavaScript engine that loads such a module
 * holds, and parses, that much less (docs/footprint.md, "Lua").
 */

/** Chunk length of the generated string literals. */
const CHUNK = 96;

async function through(bytes: Uint8Array, stream: CompressionStream | DecompressionStream) {
  const out = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(stream);
  return new Uint8Array(await new Response(out).arrayBuffer());
}

/** Compresses `bytes` and encodes them as base64 chunks (for the generators). */
export async function encodeGzipBase64(bytes: Uint8Array): Promise<string[]> {
  const gz = await through(bytes, new CompressionStream("gzip"));
  let s = "";
  for (let i = 0; i < gz.length; i += 8192) s += String.fromCharCode(...gz.subarray(i, i + 8192));
  const b64 = btoa(s);
  const chunks: string[] = [];
  for (let i = 0; i < b64.length; i += CHUNK) chunks.push(b64.slice(i, i + CHUNK));
  return chunks;
}

/** The bytes that {@link encodeGzipBase64} encoded. */
export async function decodeGzipBase64(chunks: readonly string[]): Promise<Uint8Array> {
  const text = atob(chunks.join(""));
  const gz = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) gz[i] = text.charCodeAt(i);
  return await through(gz, new DecompressionStream("gzip"));
}

/** Source lines of a generated `export const NAME: readonly string[] = [...]` of `chunks`. */
export function renderChunks(name: string, chunks: readonly string[]): string[] {
  return [
    `export const ${name}: readonly string[] = [`,
    ...chunks.map((c) => `  "${c}",`),
    "];",
  ];
}
