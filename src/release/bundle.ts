/**
 * How the program is bundled: `deno bundle --code-splitting` into one directory, the entry module
 * plus chunks. Every module the program imports dynamically (the Lua engine and its payloads, the
 * observability listener with uPlot, the MQTT publisher) becomes a chunk of its own, loaded only
 * when it is used: the program's source size costs the running daemon even for code it never runs
 * (docs/footprint.md, "Code splitting"). One definition, used by `scripts/compile.ts`, the
 * benchmarks and the tests, and mirrored by the `bundle` task in deno.json (a test keeps them
 * equal). A chunk is imported by a relative specifier, which needs no read permission.
 */

/** Where `deno task bundle` writes the program (relative to the repository root). */
export const BUNDLE_DIR = "dist/sqm-autorate";

/** The entry module of the bundle in {@link BUNDLE_DIR} (what `deno task daemon` runs). */
export const BUNDLE_ENTRY = `${BUNDLE_DIR}/main.js`;

/** Options of {@link bundleArgs} and {@link bundleProgram}. */
export interface BundleOptions {
  /** The entry to bundle (main.ts, or a probe). */
  readonly entry: string;
  /** Output directory: the entry's module and its chunks. */
  readonly outdir: string;
}

/** The `deno bundle` arguments (without the `deno` executable). */
export function bundleArgs(options: BundleOptions): string[] {
  return [
    "bundle",
    "--platform",
    "deno",
    "--minify",
    "--code-splitting",
    "--outdir",
    options.outdir,
    options.entry,
  ];
}

/** The path of the entry's module in `outdir` (esbuild names it after the entry). */
export function bundledEntry(options: BundleOptions): string {
  const base = options.entry.replace(/^.*\//, "").replace(/\.[cm]?[jt]sx?$/, "");
  return `${options.outdir.replace(/\/$/, "")}/${base}.js`;
}

/**
 * Bundles `entry` into a fresh `outdir` (what an earlier build left is removed first: chunk names
 * carry a hash of their content, so stale chunks would pile up) and returns the entry module's
 * path. Throws with deno's message when bundling fails.
 */
export async function bundleProgram(
  options: BundleOptions & { cwd?: string; deno?: string },
): Promise<string> {
  await Deno.remove(options.outdir, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  const out = await new Deno.Command(options.deno ?? Deno.execPath(), {
    args: ["bundle", "-q", ...bundleArgs(options).slice(1)],
    cwd: options.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `deno bundle ${options.entry} failed:\n${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return bundledEntry(options);
}

/** The bundle's files (the entry and its chunks), paths relative to `outdir`, sorted. */
export function bundleFiles(outdir: string): string[] {
  return [...Deno.readDirSync(outdir)].filter((e) => e.isFile && e.name.endsWith(".js"))
    .map((e) => e.name).sort();
}

/** The static imports of one bundle file (`import{a}from"./x.js"`, `import"./x.js"`). */
export function staticImports(js: string): string[] {
  return [...js.matchAll(/\bimport\s*(?:[\w$*{},\s]+?\s*from\s*)?["']([^"']+)["']/g)].map((m) =>
    m[1]
  );
}

/**
 * The files of the bundle in `outdir` that load with `entry` (a file name there): its static
 * imports of chunks, transitively. What is left out loads on first use, if ever.
 */
export function loadedWithEntry(outdir: string, entry: string): string[] {
  const loaded = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const f = queue.shift()!;
    if (loaded.has(f)) continue;
    loaded.add(f);
    const js = Deno.readTextFileSync(`${outdir}/${f}`);
    for (const s of staticImports(js)) if (s.startsWith("./")) queue.push(s.slice(2));
  }
  return [...loaded].sort();
}
