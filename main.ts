/**
 * sqm-autorate entry point. Exits with the code the command chose; commands clean up their child
 * processes themselves before returning (Deno.exit() would leave them running). In a bundle or a
 * compiled binary this module is also the entry of the Lua worker (src/lua/isolated.ts).
 */
import { runCli } from "./src/cli/mod.ts";
import { LUA_WORKER_NAME } from "./src/lua/worker_protocol.ts";

if ((globalThis as { name?: unknown }).name === LUA_WORKER_NAME) {
  (await import("./src/lua/worker_entry.ts")).serveLuaWorker();
} else if (import.meta.main) {
  const code = await runCli(Deno.args);
  Deno.exit(code);
}
