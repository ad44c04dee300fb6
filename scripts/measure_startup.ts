/**
 * Start-up measurement for compiled binaries (used by the release workflow): for each binary, a
 * cold first run with a fresh, empty temp directory, then `--runs` warm runs, all `--version`.
 * Also reports what the runs left behind in the temp and cache directories (a compiled binary keeps
 * its V8 code cache in the temp directory, i.e. RAM on a router) and the binary's size. Prints a
 * Markdown table.
 *
 *   deno run --allow-run --allow-read --allow-write --allow-env scripts/measure_startup.ts \
 *     [--runs 15] BINARY...
 */
import { median } from "../src/util/stats.ts";
import { exitOnHelp } from "../bench/_args.ts";

exitOnHelp(import.meta.url);

/** Figures for one binary. */
export interface StartupFigures {
  /** Binary path. */
  binary: string;
  /** File size in bytes. */
  sizeBytes: number;
  /** First run with an empty temp directory, ms. */
  coldMs: number;
  /** Median of the following runs, ms. */
  warmMedianMs: number;
  /** Bytes left in the temp and cache directories after the runs (the code cache, if any). */
  tempBytes: number;
}

async function dirBytes(path: string): Promise<number> {
  let total = 0;
  for await (const e of Deno.readDir(path)) {
    const p = `${path}/${e.name}`;
    if (e.isDirectory) total += await dirBytes(p);
    else if (e.isFile) total += (await Deno.stat(p)).size;
  }
  return total;
}

async function timeRun(binary: string, tmp: string): Promise<number> {
  const t0 = performance.now();
  const out = await new Deno.Command(binary, {
    args: ["--version"],
    // Every place a compiled binary may cache to (temp dir: V8 code cache; Deno/user cache dir:
    // npm CJS analysis) points into the fresh directory, so all it writes is counted.
    env: { TMPDIR: tmp, XDG_CACHE_HOME: tmp, HOME: tmp, DENO_DIR: `${tmp}/deno_dir` },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  const ms = performance.now() - t0;
  if (!out.success) {
    throw new Error(`${binary} --version failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return ms;
}

/** Measures one binary. */
export async function measure(binary: string, runs: number): Promise<StartupFigures> {
  const tmp = await Deno.makeTempDir({ prefix: "sqma-startup-" });
  try {
    const coldMs = await timeRun(binary, tmp);
    const warm: number[] = [];
    for (let i = 0; i < runs; i++) warm.push(await timeRun(binary, tmp));
    return {
      binary,
      sizeBytes: (await Deno.stat(binary)).size,
      coldMs,
      warmMedianMs: median(warm),
      tempBytes: await dirBytes(tmp),
    };
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

/** Markdown table of the figures. */
export function table(figures: readonly StartupFigures[], runs: number): string {
  const rows = figures.map((f) =>
    `| ${f.binary} | ${(f.sizeBytes / 1e6).toFixed(1)} MB | ${f.coldMs.toFixed(0)} ms | ` +
    `${f.warmMedianMs.toFixed(0)} ms | ${(f.tempBytes / 1e3).toFixed(0)} kB |`
  );
  return [
    `| binary | size | first start (empty temp dir) | median of next ${runs} | written to temp/cache dirs |`,
    "| --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}

if (import.meta.main) {
  let runs = 15;
  const binaries: string[] = [];
  for (let i = 0; i < Deno.args.length; i++) {
    if (Deno.args[i] === "--runs") runs = Number(Deno.args[++i]);
    else binaries.push(Deno.args[i]);
  }
  if (binaries.length === 0 || !(runs > 0)) {
    console.error("usage: scripts/measure_startup.ts [--runs N] BINARY...");
    Deno.exit(64);
  }
  const figures: StartupFigures[] = [];
  for (const b of binaries) figures.push(await measure(b, runs));
  console.log(table(figures, runs));
}
