/** Logs after the parent closed the reader of its stderr, then says on stdout that it survived. */
import { configureLogging, stageLogger } from "../mod.ts";

configureLogging("INFO");
const log = stageLogger("test");
await new Response(Deno.stdin.readable).text(); // the parent closes stdin once stderr is closed
for (let i = 0; i < 3; i++) log.info("line {i}", { i });
console.log("survived");
