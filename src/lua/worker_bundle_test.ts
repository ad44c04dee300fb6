import { assert, assertEquals, assertThrows } from "../util/assert.ts";
import {
  bundleScript,
  bundleWorker,
  embeddedWorkerScript,
  moduleAsFunctionBody,
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

Deno.test("moduleAsFunctionBody: the closing export becomes the returned object; other imports refuse", () => {
  const body = moduleAsFunctionBody("var a=1;function b(){return a+1}export{a as A,b};\n");
  assertEquals(body, '"use strict";var a=1;function b(){return a+1}return{A:a,b:b};\n');
  const m = new Function(body)() as { A: number; b: () => number };
  assertEquals([m.A, m.b()], [1, 2]);
  assertThrows(() => moduleAsFunctionBody('import x from "y";export{x};'), SyntaxError);
  const e = assertThrows(() => moduleAsFunctionBody("var a=1;"), Error);
  assert(e.message.includes("export{"), e.message);
});

Deno.test("the wasmoon bundle is stored as a function body that gives the entry's exports", async () => {
  const body = await embeddedWorkerScript(WASMOON_GZIP_BASE64);
  assert(body.startsWith('"use strict";'), body.slice(0, 40));
  assert(!/\bexport\s*\{/.test(body.slice(-300)), body.slice(-300));
  const exports = new Function(body)() as Record<string, unknown>;
  assertEquals(Object.keys(exports).sort(), ["LUA_REGISTRYINDEX", "startFactory"]);
});
