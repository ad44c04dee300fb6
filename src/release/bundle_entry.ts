/**
 * Entry point of the bundled builds (`deno task bundle`, `deno compile --bundle` via
 * `deno task compile`): main.ts with the CommonJS globals bundled npm code expects defined first.
 * A wrapper that merely imported main.ts would not do: in a bundle, `import.meta.main` is true only
 * in the entry module. Keep in step with main.ts (tests/release/bundle_entry_test.ts checks).
 */
import "./cjs_globals.ts";
import { runCli } from "../cli/mod.ts";

if (import.meta.main) {
  const code = await runCli(Deno.args);
  Deno.exit(code);
}
