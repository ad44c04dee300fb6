/**
 * Regenerates the two embedded bundles of the Lua support, each one module bundled into one
 * script and stored as a string, which needs no read permission to start (so it works from a
 * checkout, the bundle and the compiled binary under the release permissions):
 *
 * - `src/lua/wasmoon_bundle.ts`: wasmoon and its starter (src/lua/wasmoon_entry.ts) as the body of
 *   a function, evaluated by src/lua/wasmoon_load.ts only when a Lua engine starts, so a daemon
 *   without Lua never loads wasmoon's code or the `node:` modules its glue needs
 *   (docs/footprint.md);
 * - `src/lua/worker_bundle.ts`: the Lua worker (src/lua/worker_main.ts and everything it imports
 *   but the wasmoon bundle and glue.wasm, which its host hands it: src/lua/engine_payload.ts),
 *   started by src/lua/isolated.ts from a `blob:` URL.
 *
 * wasmoon is CommonJS, for which the bundler makes a `require` from `node:module`; the wasmoon
 * bundle gets a stub instead that serves the one module wasmoon's glue asks for in web mode, so
 * loading it loads no `node:` module (code without a module URL of its own could not make a real
 * `require` anyway).
 *
 * Run: `deno task gen:lua` after changing the Lua support's code (the test
 * `worker_bundle_test.ts` fails until you do).
 */
import { decodeGzipBase64, encodeGzipBase64, renderChunks } from "./gzip_base64.ts";

/** One embedded bundle: the module bundled, the generated file and its constant. */
export interface EmbeddedBundle {
  /** Entry module. */
  readonly entry: URL;
  /** Generated module. */
  readonly out: URL;
  /** Name of the exported chunk array. */
  readonly name: string;
  /** Doc comment of the constant. */
  readonly doc: string;
  /** Imports left out of the bundle (`deno bundle --external`). */
  readonly external?: readonly string[];
  /**
   * Store the module as the body of a function returning its exports (`"use strict"; … return
   * {…}`) instead of as a module, for {@link evaluateFunctionBody}: importing it as a module from
   * a `blob:` URL left about 3 MB more anonymous memory (docs/footprint.md, "Lua").
   */
  readonly functionBody?: boolean;
}

/** wasmoon and its starter (loaded by src/lua/wasmoon_load.ts). */
export const WASMOON_BUNDLE: EmbeddedBundle = {
  entry: new URL("./wasmoon_entry.ts", import.meta.url),
  out: new URL("./wasmoon_bundle.ts", import.meta.url),
  name: "WASMOON_GZIP_BASE64",
  doc: "wasmoon with its starter as a function body, gzip, base64 in chunks " +
    "(src/lua/wasmoon_load.ts).",
  functionBody: true,
};

/** The Lua worker (started by src/lua/isolated.ts); it embeds the wasmoon bundle. */
export const WORKER_BUNDLE: EmbeddedBundle = {
  entry: new URL("./worker_main.ts", import.meta.url),
  out: new URL("./worker_bundle.ts", import.meta.url),
  name: "LUA_WORKER_GZIP_BASE64",
  doc: "The Lua worker as one script, gzip, base64 in chunks (started by src/lua/isolated.ts).",
  // Its host hands it these with its first load (src/lua/engine_payload.ts): no second copy.
  external: ["./glue_wasm.ts", "./wasmoon_bundle.ts"],
};

/** The generated worker module. */
export const WORKER_BUNDLE_OUT: URL = WORKER_BUNDLE.out;
/** How the bundler gives bundled CommonJS code (wasmoon) its `require`. */
const REQUIRE_IMPORT = 'import{createRequire as __deno_internal_createRequire} from "node:module";';
const REQUIRE_FROM_HERE = "__deno_internal_createRequire(import.meta.url)";
/**
 * The `require` the bundle gets instead: wasmoon's glue asks it only for `url` (to turn
 * `__filename` into a URL while its module is evaluated) as long as it runs in web mode
 * (src/lua/wasmoon_entry.ts), so nothing loads `node:module`.
 */
const REQUIRE_STUB = '(()=>(id)=>{if(id==="node:url"||id==="url")' +
  'return{pathToFileURL:(p)=>new URL("file://"+p)};' +
  'throw new Error("sqm-autorate: "+id+" is not available to the Lua engine")})()';

/** Bundles `bundle`'s entry (minified) and replaces its `require`, if it has one. */
export async function bundleScript(bundle: EmbeddedBundle): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "sqma-lua-bundle-" });
  try {
    const out = `${dir}/bundle.js`;
    const r = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--platform",
        "deno",
        "--minify",
        "-q",
        ...(bundle.external ?? []).flatMap((e) => ["--external", e]),
        "-o",
        out,
        bundle.entry.pathname,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!r.success) throw new Error(`deno bundle failed: ${new TextDecoder().decode(r.stderr)}`);
    const js = await Deno.readTextFile(out);
    const parts = js.split(REQUIRE_FROM_HERE);
    const imports = js.split(REQUIRE_IMPORT).length - 1;
    if (
      parts.length > 2 || imports !== parts.length - 1 ||
      js.split("import.meta").length !== parts.length
    ) {
      throw new Error(`expected at most one ${REQUIRE_FROM_HERE} and no other import.meta`);
    }
    const script = parts.join(REQUIRE_STUB).replace(REQUIRE_IMPORT, "");
    return bundle.functionBody ? moduleAsFunctionBody(script) : script;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * A bundled module as a function body returning its exports: its closing `export{…}` becomes
 * `return{…}`. Throws if that is not the end of the module or anything else is not valid in a
 * function body (an `import` or `export` statement elsewhere).
 */
export function moduleAsFunctionBody(js: string): string {
  const m = /export\s*\{([^}]*)\};?\s*$/.exec(js);
  if (m === null) throw new Error("expected the bundle to end with one export{…}");
  const props = m[1].split(",").map((spec) => {
    const [local, exported = local] = spec.trim().split(/\s+as\s+/);
    return `${exported}:${local}`;
  });
  const body = `"use strict";${js.slice(0, m.index)}return{${props.join(",")}};\n`;
  // Compiled, not run: a SyntaxError here names what a function body cannot hold.
  new Function(body);
  return body;
}

/** Bundles the worker. */
export function bundleWorker(): Promise<string> {
  return bundleScript(WORKER_BUNDLE);
}

/** Source text of the generated module for `bundle`. */
export async function renderBundleModule(bundle: EmbeddedBundle, js: string): Promise<string> {
  const chunks = await encodeGzipBase64(new TextEncoder().encode(js));
  const from = bundle.entry.pathname.replace(/^.*\/src\//, "src/");
  return [
    `// Generated by src/lua/gen_worker_bundle.ts from ${from}. Do not edit.`,
    "",
    `/** ${bundle.doc} */`,
    ...renderChunks(bundle.name, chunks),
    "",
  ].join("\n");
}

/** Source text of the generated worker module. */
export function renderWorkerBundleModule(js: string): Promise<string> {
  return renderBundleModule(WORKER_BUNDLE, js);
}

/** Regenerates the wasmoon bundle, then the worker bundle that embeds it. */
export async function writeEmbeddedBundles(): Promise<void> {
  for (const bundle of [WASMOON_BUNDLE, WORKER_BUNDLE]) {
    await Deno.writeTextFile(
      bundle.out,
      await renderBundleModule(bundle, await bundleScript(bundle)),
    );
    console.log(`wrote ${bundle.out.pathname}`);
  }
}

/** The worker script a generated module holds. */
export async function embeddedWorkerScript(chunks: readonly string[]): Promise<string> {
  return new TextDecoder().decode(await decodeGzipBase64(chunks));
}

if (import.meta.main) {
  await writeEmbeddedBundles();
}
