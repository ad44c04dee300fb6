import { assert, assertEquals, assertThrows } from "../src/util/assert.ts";
import { argValues, envPairs, headerUsage } from "./_args.ts";

Deno.test("headerUsage: the first doc comment's text without its leading stars", () => {
  const source = [
    "/**",
    " * Measures a thing.",
    " *",
    " *   deno run bench/x.ts [--n N]",
    " */",
    'import { y } from "./y.ts";',
    "/** Not this one. */",
  ].join("\n");
  assertEquals(headerUsage(source), "Measures a thing.\n\n  deno run bench/x.ts [--n N]");
  assertEquals(headerUsage("const x = 1;"), undefined);
});

Deno.test("argValues: every value of a repeated flag, both spellings, in order", () => {
  const args = ["--env", "A=1", "--x", "--env=B=2", "--env"];
  assertEquals(argValues("--env", args), ["A=1", "B=2"]);
  assertEquals(argValues("--other", args), []);
});

Deno.test("envPairs: NAME=VALUE pairs split at the first =, comma-separated; a bad pair throws", () => {
  assertEquals(envPairs("MALLOC_ARENA_MAX=1,MALLOC_TRIM_THRESHOLD_=0"), {
    MALLOC_ARENA_MAX: "1",
    MALLOC_TRIM_THRESHOLD_: "0",
  });
  assertEquals(envPairs("GLIBC_TUNABLES=glibc.malloc.arena_max=1:glibc.malloc.trim_threshold=0"), {
    GLIBC_TUNABLES: "glibc.malloc.arena_max=1:glibc.malloc.trim_threshold=0",
  });
  assertEquals(envPairs("A="), { A: "" });
  assertEquals(envPairs(""), {});
  assertThrows(() => envPairs("A=1,novalue"), Error);
  assertThrows(() => envPairs("=1"), Error);
});

/** Scripts that take arguments; several run minutes or the testbed's namespaces when started. */
const SCRIPTS = [
  "bench/churn.ts",
  "bench/footprint.ts",
  "bench/helper_memory.ts",
  "bench/soak.ts",
  "scripts/compile.ts",
  "scripts/measure_startup.ts",
  "scripts/probe_rate.ts",
  "scripts/sim_seeds.ts",
  "scripts/sim_vs_testbed.ts",
  "scripts/soak_faults.ts",
];

Deno.test("--help prints a script's usage and exits 0 without starting a run", async () => {
  const root = new URL("../", import.meta.url);
  for (const script of SCRIPTS) {
    const url = new URL(script, root);
    // -A: what the scripts are run with; a run started by mistake is stopped at the timeout.
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", url.pathname, "--help"],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    const expected = headerUsage(await Deno.readTextFile(url))?.split("\n")[0];
    assertEquals(out.code, 0, `${script} --help: ${new TextDecoder().decode(out.stderr)}`);
    assert(expected !== undefined && text.startsWith(expected), `${script} --help printed ${text}`);
  }
});
