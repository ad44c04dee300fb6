/**
 * What the aarch64 tests share, prepared once per test process: the aarch64 Deno of this Deno's
 * version (tests/aarch64/deno_package.ts) behind its launcher (tests/aarch64/qemu.ts), and the
 * program bundled by `deno task bundle`, plus the permission probe bundled the same way. Both
 * Denos then run the same files with the same arguments (`binaryRunArgs`: exactly the binary's
 * permission set and V8 flags).
 */
import { expectCode, ROOT, runDeno, type RunDenoOptions } from "../release/run_deno.ts";
import { needs } from "../../src/util/netns_testing.ts";
import { fetchAarch64Deno } from "./deno_package.ts";
import { aarch64Launcher } from "./qemu.ts";
import { BUNDLE_DIR, BUNDLE_ENTRY, bundleFiles } from "../../src/release/bundle.ts";

/** The prepared aarch64 Deno and the files it runs. */
export interface Aarch64Setup {
  /** Launcher and aarch64 deno: the `deno` option of `runDeno`. */
  readonly deno: readonly string[];
  /** Environment for every aarch64 run (its own DENO_DIR). */
  readonly env: Readonly<Record<string, string>>;
  /** Per-run directory (removed when the test process ends). */
  readonly dir: string;
  /** The program's entry module as `deno task bundle` writes it (a copy, chunks beside it). */
  readonly bundle: string;
  /** tests/release/probe.ts, bundled. */
  readonly probe: string;
}

async function prepare(): Promise<Aarch64Setup | string> {
  const launcher = await aarch64Launcher();
  if (launcher.skip !== undefined) return launcher.skip;
  const dir = await Deno.makeTempDir({ prefix: "sqma-aarch64-" });
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch {
      // already gone
    }
  });
  const fetched = await fetchAarch64Deno(Deno.version.deno, { into: dir });
  console.log(
    `aarch64: deno ${Deno.version.deno} from the npm registry (${fetched.integrity.slice(0, 24)}…` +
      `${fetched.cached ? ", cached" : ""}) under ${launcher.prefix.join(" ") || "no emulator"}`,
  );
  expectCode(await runDeno(["task", "bundle"]), 0, "deno task bundle");
  // The whole directory: the entry module loads its chunks (the Lua engine among them) from beside
  // it on first use.
  await Deno.mkdir(`${dir}/sqm-autorate`);
  for (const f of bundleFiles(`${ROOT}/${BUNDLE_DIR}`)) {
    await Deno.copyFile(`${ROOT}/${BUNDLE_DIR}/${f}`, `${dir}/sqm-autorate/${f}`);
  }
  const bundle = `${dir}/sqm-autorate/${BUNDLE_ENTRY.slice(BUNDLE_DIR.length + 1)}`;
  const probe = `${dir}/probe.js`;
  const b = await runDeno(["bundle", "--platform", "deno", "-o", probe, "tests/release/probe.ts"]);
  expectCode(b, 0, "bundle the permission probe");
  return {
    deno: [...launcher.prefix, fetched.deno],
    env: { DENO_DIR: `${dir}/deno_dir` },
    dir,
    bundle,
    probe,
  };
}

const prepared = await prepare();

/** Why the aarch64 tests cannot run here (printed, and shown in the test names), or undefined. */
export const SKIP: string | undefined = typeof prepared === "string" ? prepared : undefined;

/** The prepared setup (undefined when skipped). */
export const SETUP: Aarch64Setup | undefined = typeof prepared === "string" ? undefined : prepared;

if (SKIP !== undefined) console.log(`aarch64 tests: skipped (${SKIP})`);

/**
 * Name and `ignore` flag of an aarch64 test: ignored, with the reason in its name, when no
 * aarch64 Deno can run here (the one skip allowed everywhere, CI included); otherwise
 * {@linkcode needs} decides about `otherReason` (root, namespaces), which CI never ignores.
 */
export function aarch64Test(
  name: string,
  otherReason?: string,
): { name: string; ignore: boolean } {
  if (SKIP !== undefined) return { name: `${name} (ignored: ${SKIP})`, ignore: true };
  return needs(name, otherReason);
}

/** `runDeno` with the aarch64 deno. */
export function runAarch64(
  setup: Aarch64Setup,
  args: string[],
  options: RunDenoOptions = {},
): ReturnType<typeof runDeno> {
  return runDeno(args, { ...options, deno: setup.deno, env: { ...setup.env, ...options.env } });
}
