import { assert, assertEquals } from "../util/assert.ts";
import denoJson from "../../deno.json" with { type: "json" };
import { BUNDLE_DIR, BUNDLE_ENTRY, bundleArgs, bundledEntry, bundleProgram } from "./bundle.ts";

Deno.test("bundle: the bundle and daemon tasks build and run the bundle of src/release/bundle.ts as the binary runs", () => {
  const args = bundleArgs({ entry: "main.ts", outdir: BUNDLE_DIR });
  assertEquals(denoJson.tasks.bundle, `rm -rf ${BUNDLE_DIR} && deno ${args.join(" ")}`);
  assert(args.includes("--code-splitting"), args.join(" "));
  const daemon = denoJson.tasks.daemon.split(/\s+/);
  assertEquals(daemon.slice(0, 4), ["deno", "task", "bundle", "&&"]);
  assertEquals(daemon.at(-1), BUNDLE_ENTRY);
  // Run as the compiled binary runs (scripts/compile.ts): without V8's code cache, which costs the
  // running daemon about 1 MB (docs/footprint.md, "Code cache").
  assert(daemon.includes("--no-code-cache"), denoJson.tasks.daemon);
  assertEquals(bundledEntry({ entry: "main.ts", outdir: BUNDLE_DIR }), BUNDLE_ENTRY);
  assertEquals(
    bundledEntry({ entry: "tests/release/lua_probe.ts", outdir: "/t/" }),
    "/t/lua_probe.js",
  );
});

Deno.test("bundleProgram: a dynamic import becomes a chunk; stale files of an earlier build go", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sqma-bundle-" });
  try {
    await Deno.writeTextFile(
      `${dir}/payload.ts`,
      `export const P = "payload-${"x".repeat(64)}";\n`,
    );
    await Deno.writeTextFile(
      `${dir}/entry.ts`,
      `if (Deno.args[0] === "load") console.log((await import("./payload.ts")).P.length);\n`,
    );
    const outdir = `${dir}/out`;
    await Deno.mkdir(outdir);
    await Deno.writeTextFile(`${outdir}/stale-chunk.js`, "");
    const entry = await bundleProgram({ entry: `${dir}/entry.ts`, outdir });
    assertEquals(entry, `${outdir}/entry.js`);
    const files = [...Deno.readDirSync(outdir)].map((e) => e.name).sort();
    assertEquals(files.length, 2, files.join());
    assert(files.includes("entry.js") && files.some((f) => f.startsWith("payload-")), `${files}`);
    assert(!Deno.readTextFileSync(entry).includes("payload-x"), "the payload is in the entry");
    // The chunk loads without a read grant.
    const run = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-config", "--no-prompt", entry, "load"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert(run.success, new TextDecoder().decode(run.stderr));
    assertEquals(new TextDecoder().decode(run.stdout).trim(), "72");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
