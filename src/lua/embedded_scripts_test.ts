import { assert, assertEquals } from "../util/assert.ts";
import { EMBEDDED_SCRIPTS } from "./embedded_scripts.ts";
import { GLUE_WASM_GZIP_BASE64, GLUE_WASM_SIZE } from "./glue_wasm.ts";
import { decodeGzipBase64 } from "./gzip_base64.ts";
import { shippedScripts } from "./gen_embedded.ts";
import { builtinNames, resolveScript } from "./scripts.ts";

Deno.test("embedded scripts match lua/ on disk (run src/lua/gen_embedded.ts when not)", () => {
  const onDisk = shippedScripts();
  assertEquals(Object.keys(EMBEDDED_SCRIPTS).sort(), [...onDisk.keys()].sort());
  for (const [name, s] of onDisk) {
    assertEquals(EMBEDDED_SCRIPTS[name], { path: s.path, source: s.source }, name);
  }
  for (const name of ["ewma", "log_readings", "delay_tuner"]) {
    assert(builtinNames().includes(name), name);
  }
});

Deno.test("embedded glue.wasm matches wasmoon 1.16.0's file in the npm cache", async () => {
  const { createRequire } = await import("node:module");
  const entry = createRequire(import.meta.url).resolve("wasmoon");
  const file = await Deno.readFile(entry.replace(/index\.js$/, "glue.wasm"));
  assertEquals(file.length, GLUE_WASM_SIZE);
  const bytes = await decodeGzipBase64(GLUE_WASM_GZIP_BASE64);
  assertEquals(bytes.length, file.length);
  for (let i = 0; i < file.length; i++) {
    if (bytes[i] !== file[i]) throw new Error(`byte ${i} differs`);
  }
});

Deno.test("script references: builtin:, paths, module names", async () => {
  const files: Record<string, string> = { "/etc/sqm-autorate/mine.lua": "return {}" };
  const readTextFile = (p: string) =>
    files[p] === undefined ? Promise.reject(new Error("No such file")) : Promise.resolve(files[p]);
  const b = await resolveScript("builtin:ewma");
  assertEquals(b.display, "builtin:ewma");
  const m = await resolveScript("mine", { readTextFile });
  assertEquals([m.display, m.source], ["/etc/sqm-autorate/mine.lua", "return {}"]);
  const upstreamName = await resolveScript("log_readings", { readTextFile });
  assertEquals(upstreamName.display, "builtin:log_readings");
  const p = await resolveScript("/etc/sqm-autorate/mine.lua", { readTextFile });
  assertEquals(p.display, "/etc/sqm-autorate/mine.lua");
  // Upstream's install directory is searched after /etc/sqm-autorate.
  files["/usr/lib/sqm-autorate/delay_histogram.lua"] = "return { upstream = true }";
  const u = await resolveScript("delay_histogram", { readTextFile });
  assertEquals(u.display, "/usr/lib/sqm-autorate/delay_histogram.lua");
  files["/etc/sqm-autorate/delay_histogram.lua"] = "return {}";
  assertEquals(
    (await resolveScript("delay_histogram", { readTextFile })).display,
    "/etc/sqm-autorate/delay_histogram.lua",
  );
  // A file name without its directory is looked for where module names are (it was read
  // relative to the daemon's working directory and failed on the permission set).
  files["/usr/lib/sqm-autorate/pretty_speeds.lua"] = "return {}";
  assertEquals(
    (await resolveScript("pretty_speeds.lua", { readTextFile })).display,
    "/usr/lib/sqm-autorate/pretty_speeds.lua",
  );
  const e = await resolveScript("delay-histogram", { readTextFile }).catch((e) => e);
  assertEquals(
    String(e),
    "ScriptNotFoundError: Could not find configured plugin: delay-histogram (tried " +
      "/etc/sqm-autorate/delay-histogram.lua, /usr/lib/sqm-autorate/delay-histogram.lua " +
      "and builtin:delay-histogram); put upstream's delay-histogram.lua in /etc/sqm-autorate/ or " +
      "use a shipped plugin (builtin:delay_tuner, builtin:log_readings)",
  );
});
