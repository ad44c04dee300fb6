/**
 * Release figures: runs `deno task bundle` and measures the bundle (the modules `deno task
 * compile` embeds in the binary), its start-up under exactly the daemon manifest, and the payload
 * `deno compile` appends to the runtime (built on a stand-in runtime, since denort cannot be
 * downloaded here; the payload does not depend on the runtime).
 *
 *   deno run -P=dev bench/release.ts
 *
 * Ends with `metric bundle_size <MB> MB` (every file of the bundle) and `metric
 * bundle_loaded_size <MB> MB` (the entry module and the chunks it loads at start: what a daemon
 * without Lua and observability loads).
 */
import { median } from "../src/util/stats.ts";
import { BUNDLE_DIR, BUNDLE_ENTRY, bundleFiles, loadedWithEntry } from "../src/release/bundle.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const BUNDLE = `${ROOT}${BUNDLE_ENTRY}`;

async function deno(args: string[], env?: Record<string, string>): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`deno ${args.join(" ")} failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
}

const t0 = performance.now();
await deno(["task", "bundle"]);
const bundleMs = performance.now() - t0;
const outdir = `${ROOT}${BUNDLE_DIR}`;
const size = (files: string[]) =>
  files.reduce((sum, f) => sum + Deno.statSync(`${outdir}/${f}`).size, 0);
const bundleBytes = size(bundleFiles(outdir));
const loadedBytes = size(loadedWithEntry(outdir, BUNDLE.slice(outdir.length + 1)));
console.log(
  `deno task bundle: ${bundleMs.toFixed(0)} ms, ${bundleBytes} bytes, ${loadedBytes} of them ` +
    `loaded at start`,
);

// Start-up of the bundle under the manifest (deno run, so it includes the CLI's own start-up).
const runArgs = ["run", "-P=daemon", "--no-prompt", "--config", `${ROOT}deno.json`, BUNDLE];
await deno([...runArgs, "--version"]); // warm the module cache once
const startups: number[] = [];
for (let i = 0; i < 7; i++) {
  const s = performance.now();
  await deno([...runArgs, "--version"]);
  startups.push(performance.now() - s);
}
console.log(`bundle --version under -P=daemon: ${startups.map((v) => v.toFixed(0)).join(" ")} ms`);

// Payload deno compile appends to the runtime, with the release flags.
let payloadBytes: number | undefined;
if (Deno.build.os === "linux" && Deno.build.arch === "x86_64") {
  const dir = await Deno.makeTempDir({ prefix: "sqma-bench-release-" });
  try {
    const standIn = `${dir}/standin`;
    await Deno.copyFile("/usr/bin/true", standIn);
    const out = `${dir}/sqm-autorate`;
    await deno(["task", "compile", "--output", out], { DENORT_BIN: standIn });
    payloadBytes = (await Deno.stat(out)).size - (await Deno.stat(standIn)).size;
    console.log(`compile payload (bundle + metadata): ${payloadBytes} bytes`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

console.log(`metric bundle_build_time ${bundleMs.toFixed(0)} ms`);
console.log(`metric bundle_startup_median ${median(startups).toFixed(0)} ms`);
if (payloadBytes !== undefined) {
  console.log(`metric compile_payload_size ${(payloadBytes / 1e6).toFixed(3)} MB`);
}
console.log(`metric bundle_loaded_size ${(loadedBytes / 1e6).toFixed(3)} MB`);
console.log(`metric bundle_size ${(bundleBytes / 1e6).toFixed(3)} MB`);
