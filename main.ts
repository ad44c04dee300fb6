/**
 * sqm-autorate entry point. Exits with the code the command chose; commands clean up their child
 * processes themselves before returning (Deno.exit() would leave them running).
 */
import { runCli } from "./src/cli/mod.ts";

if (import.meta.main) {
  const code = await runCli(Deno.args);
  Deno.exit(code);
}
