import { assertEquals } from "../util/assert.ts";
import { bundleWorker, renderWorkerBundleModule, WORKER_BUNDLE_OUT } from "./gen_worker_bundle.ts";

Deno.test("worker_bundle.ts is the current Lua worker bundled (run deno task gen:lua when not)", async () => {
  const current = await Deno.readTextFile(WORKER_BUNDLE_OUT);
  // Compared by length first: a 500 kB diff says nothing more.
  const fresh = renderWorkerBundleModule(await bundleWorker());
  assertEquals(current.length, fresh.length, "worker_bundle.ts is stale: run deno task gen:lua");
  assertEquals(current === fresh, true, "worker_bundle.ts is stale: run deno task gen:lua");
});
