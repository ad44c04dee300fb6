/**
 * Builds the single-file daemon binary: `deno compile -P=daemon` for one Linux target.
 *
 *   deno task compile            # x86_64-unknown-linux-gnu
 *   deno task compile:aarch64    # aarch64-unknown-linux-gnu
 *   deno run --allow-env --allow-read --allow-write=dist --allow-run scripts/compile.ts \
 *     --target aarch64-unknown-linux-gnu [--output FILE] [--code-cache] [--no-bundle] [--print]
 *     [--no-run-check]
 *
 * `deno compile` glues the program onto `denort`, Deno's runtime-only binary for the target. It
 * normally downloads denort from the Deno release; this script instead requires `DENORT_BIN` (the
 * variable Deno reads for a local denort) so a build never silently needs the network, and checks
 * that it is a Linux ELF file for the requested architecture and not the `deno` CLI itself (a
 * binary built on `deno` only behaves like `deno`). Neither check can tell denort from another
 * program, so a binary built for this machine's architecture is run once (`--version`) and
 * refused unless it answers as sqm-autorate (docs/install.md, "Build the binaries");
 * `--no-run-check` skips that (the tests' stand-in runtime).
 *
 * Flags passed to deno compile, and why:
 * - `-P=daemon`: the permission manifest in deno.json, baked into the binary (it never prompts).
 * - the entry is the bundle of `deno task bundle` (src/release/bundle.ts: esbuild with code
 *   splitting into dist/sqm-autorate/, built first by this script): the main module plus a chunk
 *   for each module the program imports dynamically (the Lua engine and its payloads, the
 *   observability listener, the MQTT publisher), so that the daemon's main module carries only
 *   what it runs (docs/footprint.md, "Code splitting"). deno compile embeds the entry's module
 *   graph, and a chunk is in it as a static import or an `import("./chunk.js")` of a literal
 *   specifier, which deno follows: every chunk is embedded without `--include` (a test checks each
 *   one byte for byte) and loads without a read grant. `deno compile --bundle` instead inlines
 *   every dynamic import into one module. Bundling rather than embedding the npm node_modules tree
 *   keeps the payload at about 0.6 MB instead of about 9.8 MB (zod alone is 5.9 MB), and nothing
 *   CommonJS is left to analyse at run time. The Lua wasm and scripts are embedded as modules
 *   (src/lua/glue_wasm.ts, src/lua/embedded_scripts.ts) rather than read from disk, so no
 *   `--include lua/` is needed (an included file would need a read grant to be opened).
 *   `--no-bundle` compiles main.ts with the plain graph.
 * - `--exclude-unused-npm`: only npm packages the graph reaches (none in the bundle) are embedded,
 *   not the lockfile's whole snapshot.
 * - `--v8-flags=…` (src/release/v8_flags.ts): memory settings chosen by measurement, baked in.
 * - `--no-code-cache` (default; `--code-cache` to keep it): a compiled binary otherwise writes a
 *   V8 code cache into the temp directory on its first run. On routers /tmp is RAM, systemd's
 *   PrivateTmp and reboots discard it, and a daemon starts once and runs for weeks, so the
 *   start-up time it saves is not worth the RAM. The release workflow measures both.
 */

import { v8FlagsArg } from "../src/release/v8_flags.ts";
import { BUNDLE_DIR, BUNDLE_ENTRY, bundleArgs, bundleProgram } from "../src/release/bundle.ts";
import { exitOnHelp } from "../bench/_args.ts";

exitOnHelp(import.meta.url);

/** Targets with a Deno build that fit a router (glibc Linux only). */
export const TARGETS = {
  "x86_64-unknown-linux-gnu": { elfMachine: 0x3e, arch: "x86_64" },
  "aarch64-unknown-linux-gnu": { elfMachine: 0xb7, arch: "aarch64" },
} as const;

/** A supported `--target`. */
export type Target = keyof typeof TARGETS;

/** Options of one build. */
export interface CompileOptions {
  /** Target triple. */
  target: Target;
  /** Output file. */
  output: string;
  /** Keep V8's code cache (default false: `--no-code-cache`). */
  codeCache: boolean;
  /** Compile the bundle of `deno task bundle` (default true) instead of main.ts's graph. */
  bundle: boolean;
  /** Run a binary built for this machine's architecture once and check it (default true). */
  runCheck: boolean;
}

/** Exit code for a missing or unusable denort (EX_UNAVAILABLE). */
export const EXIT_NO_DENORT = 69;
/** Exit code for bad arguments (EX_USAGE). */
export const EXIT_USAGE = 64;

const ROOT = new URL("../", import.meta.url);

/** The message printed when DENORT_BIN is not usable. */
export function denortHelp(target: Target, problem: string): string {
  return `error: ${problem}\n` +
    `deno compile needs the denort runtime; set DENORT_BIN=/path/to/denort ` +
    `(download it from the Deno release for ${target}: denort-${target}.zip of the same ` +
    `version as \`deno --version\`) — it cannot be downloaded in this environment`;
}

/** Default output path for a target. */
export function defaultOutput(target: Target): string {
  return `dist/sqm-autorate-${TARGETS[target].arch}-linux`;
}

/** Parses the script's arguments; throws an Error with a usage message on bad input. */
export function parseArgs(args: readonly string[]): CompileOptions & { print: boolean } {
  let target: string | undefined;
  let output: string | undefined;
  let codeCache = false;
  let bundle = true;
  let print = false;
  let runCheck = true;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--") continue; // `deno task compile -- --print` passes the separator through
    else if (a === "--target") target = value();
    else if (a.startsWith("--target=")) target = a.slice(9);
    else if (a === "--output" || a === "-o") output = value();
    else if (a.startsWith("--output=")) output = a.slice(9);
    else if (a === "--code-cache") codeCache = true;
    else if (a === "--no-code-cache") codeCache = false;
    else if (a === "--bundle") bundle = true;
    else if (a === "--no-bundle") bundle = false;
    else if (a === "--print") print = true;
    else if (a === "--no-run-check") runCheck = false;
    else throw new Error(`unknown argument ${a}`);
  }
  if (target === undefined) throw new Error("--target is required");
  if (!(target in TARGETS)) {
    throw new Error(`unsupported target ${target}; use one of ${Object.keys(TARGETS).join(", ")}`);
  }
  const t = target as Target;
  return { target: t, output: output ?? defaultOutput(t), codeCache, bundle, print, runCheck };
}

/** The `deno bundle` arguments run before compiling (none without the bundle). */
export function bundleStep(options: CompileOptions): string[] | undefined {
  return options.bundle ? bundleArgs({ entry: "main.ts", outdir: BUNDLE_DIR }) : undefined;
}

/** The `deno compile` arguments for a build (without the `deno` executable). */
export function compileArgs(options: CompileOptions): string[] {
  const args = [
    "compile",
    "-P=daemon",
    v8FlagsArg(),
    "--config",
    "deno.json",
    "--target",
    options.target,
    "--output",
    options.output,
    "--exclude-unused-npm",
  ];
  if (!options.codeCache) args.push("--no-code-cache");
  args.push(options.bundle ? BUNDLE_ENTRY : "main.ts");
  return args;
}

/** ELF `e_machine` of a file, or undefined when it is not an ELF file. */
export function elfMachine(head: Uint8Array): number | undefined {
  const isElf = head.length >= 20 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c &&
    head[3] === 0x46;
  if (!isElf) return undefined;
  // e_machine is a 16-bit field at offset 18, little-endian for both targets.
  return head[18] | (head[19] << 8);
}

/**
 * Checks DENORT_BIN for `target`; returns a problem description or undefined when usable.
 * `denoExec` is the running deno CLI (a denort must not be the CLI itself).
 */
export function checkDenort(
  denortBin: string | undefined,
  options: { target: Target; denoExec: string },
): string | undefined {
  if (denortBin === undefined || denortBin === "") return "DENORT_BIN is not set";
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(denortBin);
  } catch {
    return `DENORT_BIN=${denortBin} does not exist`;
  }
  if (!info.isFile) return `DENORT_BIN=${denortBin} is not a file`;
  if (Deno.realPathSync(denortBin) === Deno.realPathSync(options.denoExec)) {
    return `DENORT_BIN=${denortBin} is the deno CLI, not denort (the result would only act as deno)`;
  }
  const head = new Uint8Array(20);
  const file = Deno.openSync(denortBin, { read: true });
  try {
    file.readSync(head);
  } finally {
    file.close();
  }
  const machine = elfMachine(head);
  const want = TARGETS[options.target].elfMachine;
  if (machine === undefined) return `DENORT_BIN=${denortBin} is not a Linux (ELF) executable`;
  if (machine !== want) {
    return `DENORT_BIN=${denortBin} is for another architecture (ELF machine 0x${
      machine.toString(16)
    }), not ${TARGETS[options.target].arch}`;
  }
  return undefined;
}

/**
 * Runs a freshly built binary with `--version` when it is for this machine's architecture;
 * returns a problem description, or undefined when it answered as sqm-autorate or cannot run here.
 * A DENORT_BIN that is another program passes {@linkcode checkDenort} and `deno compile`, and
 * only running the result shows it.
 */
export async function runCheck(
  binary: string,
  options: { target: Target; denortBin: string },
): Promise<string | undefined> {
  if (TARGETS[options.target].arch !== Deno.build.arch) return undefined;
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(binary, {
      args: ["--version"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (e) {
    return `the built ${binary} does not start (${(e as Error).message})`;
  }
  const text = new TextDecoder().decode(out.stdout).trim();
  if (out.success && /^sqm-autorate \S+$/.test(text)) return undefined;
  const said = (text || new TextDecoder().decode(out.stderr).trim()).split("\n")[0].slice(0, 120);
  return `the built ${binary} does not run as sqm-autorate (\`--version\` exited ${out.code}: ` +
    `${JSON.stringify(said)}), so DENORT_BIN=${options.denortBin} is not the denort of this deno ` +
    `(${Deno.version.deno})`;
}

async function main(args: readonly string[]): Promise<number> {
  let options: ReturnType<typeof parseArgs>;
  try {
    options = parseArgs(args);
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    console.error(
      "usage: scripts/compile.ts --target x86_64-unknown-linux-gnu|aarch64-unknown-linux-gnu " +
        "[--output FILE] [--code-cache] [--no-bundle] [--print] [--no-run-check]",
    );
    return EXIT_USAGE;
  }
  const args2 = compileArgs(options);
  const bundle = bundleStep(options);
  if (options.print) {
    if (bundle !== undefined) console.log(["deno", ...bundle].join(" "));
    console.log(["deno", ...args2].join(" "));
    return 0;
  }
  const denortBin = Deno.env.get("DENORT_BIN");
  const problem = checkDenort(denortBin, { target: options.target, denoExec: Deno.execPath() });
  if (problem !== undefined) {
    console.error(denortHelp(options.target, problem));
    return EXIT_NO_DENORT;
  }
  await Deno.mkdir(new URL("dist/", ROOT), { recursive: true });
  if (bundle !== undefined) {
    console.error(`deno ${bundle.join(" ")}`);
    await bundleProgram({
      entry: "main.ts",
      outdir: new URL(BUNDLE_DIR, ROOT).pathname,
      cwd: new URL(".", ROOT).pathname,
    });
  }
  console.error(`DENORT_BIN=${denortBin} deno ${args2.join(" ")}`);
  const child = new Deno.Command(Deno.execPath(), {
    args: args2,
    cwd: ROOT,
    env: { DENORT_BIN: denortBin! },
    stdin: "null",
  }).spawn();
  const status = await child.status;
  if (!status.success) return status.code || 1;
  const output = new URL(options.output, ROOT).pathname;
  if (options.runCheck) {
    const problem = await runCheck(output, { target: options.target, denortBin: denortBin! });
    if (problem !== undefined) {
      // This script may write (so remove) below dist/ only.
      const removed = await Deno.remove(output).then(() => true, () => false);
      const what = removed ? "the binary was removed" : `do not use ${options.output}`;
      console.error(denortHelp(options.target, `${problem}; ${what}`));
      return EXIT_NO_DENORT;
    }
  }
  const size = (await Deno.stat(output)).size;
  console.error(`built ${options.output} (${(size / 1e6).toFixed(1)} MB)`);
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
