/**
 * `deno task compile`: fails clearly without a denort runtime, and with a stand-in runtime (any
 * x86_64 ELF file; the result cannot run) shows what `deno compile` bakes into the binary: the
 * daemon manifest, no net/sys/ffi, no code cache, and every module of `deno task bundle`'s output
 * (the entry and its chunks).
 */
import { assert, assertEquals, assertThrows } from "../../src/util/assert.ts";
import { DAEMON_MANIFEST } from "../../src/release/manifest.ts";
import { BUNDLE_DIR, bundleArgs, bundleFiles } from "../../src/release/bundle.ts";
import {
  bundleStep,
  compileArgs,
  defaultOutput,
  elfMachine,
  EXIT_NO_DENORT,
  parseArgs,
} from "../../scripts/compile.ts";
import { expectCode, ROOT, runDeno } from "./run_deno.ts";

function envWithout(name: string, extra: Record<string, string> = {}): Record<string, string> {
  const env = Deno.env.toObject();
  delete env[name];
  return { ...env, ...extra };
}

const HELP = "deno compile needs the denort runtime; set DENORT_BIN=/path/to/denort";
const NO_DOWNLOAD = "it cannot be downloaded in this environment";

Deno.test("deno task compile without DENORT_BIN exits non-zero with the denort message", async () => {
  for (const task of ["compile", "compile:aarch64"]) {
    const r = await runDeno(["task", task], { env: envWithout("DENORT_BIN"), clearEnv: true });
    assertEquals(r.code, EXIT_NO_DENORT, `${task}: ${r.stderr}`);
    assert(r.stderr.includes("DENORT_BIN is not set"), r.stderr);
    assert(r.stderr.includes(HELP), r.stderr);
    assert(r.stderr.includes(NO_DOWNLOAD), r.stderr);
    const target = task === "compile" ? "x86_64-unknown-linux-gnu" : "aarch64-unknown-linux-gnu";
    assert(r.stderr.includes(target), `names the target: ${r.stderr}`);
  }
});

Deno.test("DENORT_BIN that is missing, the deno CLI, or the wrong architecture is refused", async () => {
  const cases: [string, string, string][] = [
    ["compile", "/nonexistent/denort", "does not exist"],
    ["compile", Deno.execPath(), "is the deno CLI, not denort"],
    ["compile", "/etc/hostname", "is not a Linux (ELF) executable"],
  ];
  if (Deno.build.arch === "x86_64") {
    cases.push(["compile:aarch64", "/usr/bin/true", "is for another architecture"]);
  }
  for (const [task, denort, problem] of cases) {
    const r = await runDeno(["task", task], { env: { DENORT_BIN: denort } });
    assertEquals(r.code, EXIT_NO_DENORT, `${task} ${denort}: ${r.stderr}`);
    assert(r.stderr.includes(problem), r.stderr);
    assert(r.stderr.includes(HELP), r.stderr);
  }
});

Deno.test("compile arguments: manifest, the code-split bundle, no code cache by default", () => {
  const o = parseArgs(["--target", "aarch64-unknown-linux-gnu"]);
  assertEquals(o.output, defaultOutput("aarch64-unknown-linux-gnu"));
  assertEquals(compileArgs(o), [
    "compile",
    "-P=daemon",
    "--v8-flags=--max-semi-space-size=1,--max-opt=0,--liftoff-only,--wasm-wrapper-tiering-budget=2147483647,--expose-gc",
    "--config",
    "deno.json",
    "--target",
    "aarch64-unknown-linux-gnu",
    "--output",
    "dist/sqm-autorate-aarch64-linux",
    "--exclude-unused-npm",
    "--no-code-cache",
    "dist/sqm-autorate/main.js",
  ]);
  // The bundle compiled is the one `deno task bundle` writes (src/release/bundle_test.ts).
  assertEquals(bundleStep(o), bundleArgs({ entry: "main.ts", outdir: BUNDLE_DIR }));
  assert(o.runCheck && !parseArgs(["--target", o.target, "--no-run-check"]).runCheck);
  const plain = parseArgs([
    "--",
    "--target=x86_64-unknown-linux-gnu",
    "--no-bundle",
    "--code-cache",
  ]);
  const args = compileArgs(plain);
  assert(args.includes("--exclude-unused-npm") && !args.includes("--bundle"), args.join(" "));
  assertEquals(bundleStep(plain), undefined);
  assert(!args.includes("--no-code-cache"), args.join(" "));
  assertEquals(args.at(-1), "main.ts");
  assert(assertThrows(() => parseArgs([]), Error).message.includes("--target is required"));
  assert(
    assertThrows(() => parseArgs(["--target", "mips-unknown-linux-musl"]), Error).message.includes(
      "unsupported",
    ),
  );
  assert(
    assertThrows(() => parseArgs(["--target", "x86_64-unknown-linux-gnu", "-A"]), Error).message
      .includes("unknown"),
  );
});

Deno.test("elfMachine reads e_machine", () => {
  const head = new Uint8Array(20);
  head.set([0x7f, 0x45, 0x4c, 0x46]);
  head[18] = 0xb7;
  assertEquals(elfMachine(head), 0xb7);
  assertEquals(elfMachine(new TextEncoder().encode("#!/bin/sh\necho not elf\n")), undefined);
  assertEquals(elfMachine(Deno.readFileSync("/usr/bin/true").subarray(0, 20)), 0x3e);
});

/** Pulls one `"key":value` out of the binary's JSON metadata. */
function metadataField(text: string, key: string): unknown {
  // Arrays of strings may hold "]" ("[::1]:9101"), so match them string by string.
  const m = new RegExp(`"${key}":(null|\\[(?:"[^"]*",?)*\\]|"[^"]*"|[0-9]+)`).exec(text);
  if (m === null) throw new Error(`metadata field ${key} not found`);
  return JSON.parse(m[1]);
}

/**
 * A stand-in runtime in `dir`: an x86_64 ELF program that is not denort. Any passes the script's
 * checks, and deno compile only appends to it.
 */
async function standInDenort(dir: string): Promise<string> {
  const standIn = `${dir}/denort-standin`;
  await Deno.copyFile("/usr/bin/true", standIn);
  return standIn;
}

const strip = (entries: readonly string[]) => entries.map((e) => e.replace(/(.)\/$/, "$1"));

Deno.test({
  name: "compile with a stand-in runtime bakes in exactly the daemon manifest",
  ignore: Deno.build.arch !== "x86_64" || Deno.build.os !== "linux",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "sqma-compile-" });
    try {
      const standIn = await standInDenort(dir);
      const build = async (out: string, extra: string[]) => {
        const r = await runDeno([
          "task",
          "compile",
          "--output",
          out,
          // The stand-in's result cannot run (the next test shows the task refusing it).
          "--no-run-check",
          ...extra,
        ], { env: { DENORT_BIN: standIn } });
        expectCode(r, 0, "deno task compile with stand-in");
        const bytes = await Deno.readFile(out);
        return new TextDecoder("latin1").decode(bytes);
      };
      const out = `${dir}/sqm-autorate`;
      const text = await build(out, []);
      assertEquals(metadataField(text, "allow_run"), DAEMON_MANIFEST.run);
      assertEquals(metadataField(text, "allow_env"), DAEMON_MANIFEST.env.allow);
      assertEquals(metadataField(text, "ignore_env"), DAEMON_MANIFEST.env.ignore);
      assertEquals(metadataField(text, "allow_read"), strip(DAEMON_MANIFEST.read));
      assertEquals(metadataField(text, "allow_write"), strip(DAEMON_MANIFEST.write));
      assertEquals(metadataField(text, "allow_net"), DAEMON_MANIFEST.net);
      for (const kind of ["allow_sys", "allow_ffi"]) {
        assertEquals(metadataField(text, kind), null, kind);
      }
      // Every module of the bundle the task built (the entry and each chunk, Lua payloads
      // included) is embedded byte for byte: deno compile follows the chunks' static and literal
      // dynamic imports, so the bundle tests under -P=daemon (manifest_test.ts) run exactly the
      // code the binary runs, and a Lua daemon finds its chunks.
      const outdir = `${ROOT}/${BUNDLE_DIR}`;
      const files = bundleFiles(outdir);
      assert(
        files.includes("main.js") && files.some((f) => f.startsWith("glue_wasm-")),
        `${files}`,
      );
      const binary = new TextDecoder().decode(await Deno.readFile(out));
      for (const f of files) {
        const js = await Deno.readTextFile(`${outdir}/${f}`);
        assert(binary.includes(js), `${f} embedded`);
      }
      assert(!text.includes(".deno_compile_bundle_"), "deno compile bundled again");
      assertEquals(metadataField(text, "code_cache_key"), null);
      const cached = await build(`${dir}/sqm-autorate-cc`, ["--code-cache"]);
      assert(metadataField(cached, "code_cache_key") !== null, "--code-cache keeps a cache key");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "compile refuses a binary that does not run as sqm-autorate (DENORT_BIN not denort)",
  ignore: Deno.build.arch !== "x86_64" || Deno.build.os !== "linux",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "sqma-compile-" });
    try {
      // It passes every check before the build; until the twenty-ninth session the task then
      // printed "built …" and left a binary that ran as it.
      const standIn = await standInDenort(dir);
      // Below dist/, where the task may remove what it built.
      const out = `dist/sqma-run-check-test-${Deno.pid}`;
      const r = await runDeno(["task", "compile", "--output", out], {
        env: { DENORT_BIN: standIn },
      });
      assertEquals(r.code, EXIT_NO_DENORT, r.stderr);
      assert(r.stderr.includes("does not run as sqm-autorate"), r.stderr);
      assert(r.stderr.includes(`DENORT_BIN=${standIn} is not the denort`), r.stderr);
      assert(r.stderr.includes(HELP), r.stderr);
      assert(!/^built /m.test(r.stderr), r.stderr);
      assert(r.stderr.includes("the binary was removed"), r.stderr);
      assertThrows(() => Deno.statSync(`${ROOT}/${out}`), Deno.errors.NotFound);
    } finally {
      await Deno.remove(`${ROOT}/dist/sqma-run-check-test-${Deno.pid}`).catch(() => {});
      await Deno.remove(dir, { recursive: true });
    }
  },
});
