import { assert, assertEquals } from "./assert.ts";
import { COMMAND_TIMED_OUT, denoCommandRunner } from "./command.ts";

Deno.test("denoCommandRunner: a signal kills the program early; its timeout still applies", async () => {
  const run = denoCommandRunner({ timeoutMs: 10_000 });
  const ac = new AbortController();
  const started = Date.now();
  setTimeout(() => ac.abort(), 50);
  const r = await run("sleep", ["5"], { signal: ac.signal });
  assert(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
  assertEquals(r.code, COMMAND_TIMED_OUT);
  assertEquals(r.stderr, "sleep: given up");
  const t = await denoCommandRunner({ timeoutMs: 50 })("sleep", ["5"]);
  assertEquals([t.code, t.stderr], [COMMAND_TIMED_OUT, "sleep: timed out after 50 ms"]);
  assertEquals((await run("true", [])).code, 0);
});
