import { assert, assertEquals } from "../util/assert.ts";
import {
  bundleScript,
  bundleWorker,
  embeddedWorkerScript,
  WASMOON_BUNDLE,
} from "./gen_worker_bundle.ts";
import { LUA_WORKER_GZIP_BASE64 } from "./worker_bundle.ts";
import { WASMOON_GZIP_BASE64 } from "./wasmoon_bundle.ts";

Deno.test("worker_bundle.ts is the current Lua worker bundled (run deno task gen:lua when not)", async () => {
  const embedded = await embeddedWorkerScript(LUA_WORKER_GZIP_BASE64);
  const fresh = await bundleWorker();
  // Compared by length first: a 300 kB diff says nothing more.
  assertEquals(embedded.length, fresh.length, "worker_bundle.ts is stale: run deno task gen:lua");
  assert(embedded === fresh, "worker_bundle.ts is stale: run deno task gen:lua");
});

Deno.test("wasmoon_bundle.ts is wasmoon_entry.ts bundled (run deno task gen:lua when not)", async () => {
  const embedded = await embeddedWorkerScript(WASMOON_GZIP_BASE64);
  const fresh = await bundleScript(WASMOON_BUNDLE);
  assertEquals(embedded.length, fresh.length, "wasmoon_bundle.ts is stale: run deno task gen:lua");
  assert(embedded === fresh, "wasmoon_bundle.ts is stale: run deno task gen:lua");
});

Deno.test("the embedded bundles import no node: module statically (wasmoon's glue in web mode)", async () => {
  for (
    const [name, chunks] of [
      ["wasmoon", WASMOON_GZIP_BASE64],
      ["worker", LUA_WORKER_GZIP_BASE64],
    ] as const
  ) {
    const js = await embeddedWorkerScript(chunks);
    const statics = [
      ...js.matchAll(/\bimport\s*(?:[\w$*{},\s]+?\s*from\s*)?["'](node:[^"']+)["']/g),
    ];
    assertEquals(statics.map((m) => m[1]), [], `${name} bundle`);
    assert(!js.includes("__deno_internal_createRequire"), `${name} bundle makes a real require`);
  }
});

Deno.test("the worker bundle carries no copy of glue.wasm or the wasmoon bundle (its host sends them)", async () => {
  const worker = await embeddedWorkerScript(LUA_WORKER_GZIP_BASE64);
  assert(!worker.includes("H4sI"), "a gzip payload is embedded in the worker bundle");
  assert(worker.length < 100_000, `worker bundle ${worker.length} characters`);
});
