/**
 * The aarch64 Deno CLI from the npm registry: package `@deno/linux-arm64-glibc`, one version per
 * Deno release, holding the `deno` executable. The tarball is fetched with npm (the registry's
 * ordinary client), kept in a cache directory, and checked against the `dist.integrity` field of
 * the registry's metadata every time it is used; the executable is unpacked afresh from the
 * verified tarball into a per-run directory, so a file changed in the cache is never run.
 * See docs/install.md ("What is proven where").
 */
import { Buffer } from "node:buffer";
import { type CommandRunner, denoCommandRunner } from "../../src/util/command.ts";

/** The npm package with the aarch64 glibc Linux build of the Deno CLI. */
export const PACKAGE = "@deno/linux-arm64-glibc";

/** npm and tar get a minute each: the tarball is about 40 MB. */
const run: CommandRunner = denoCommandRunner({ timeoutMs: 300_000 });

/** Where verified tarballs are kept between runs (`$XDG_CACHE_HOME` or `~/.cache`). */
export function cacheDir(): string {
  const base = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/tmp"}/.cache`;
  return `${base}/sqm-autorate/aarch64`;
}

/** Subresource-integrity string (`sha512-<base64>`, npm's format) of some bytes. */
export async function sha512Integrity(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-512", bytes);
  return `sha512-${Buffer.from(digest).toString("base64")}`;
}

async function npm(args: string[]): Promise<string> {
  const r = await run("npm", args);
  if (r.code !== 0) throw new Error(`npm ${args.join(" ")} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** The registry's `dist.integrity` of `PACKAGE@version` (asked every time, never cached). */
export async function registryIntegrity(version: string): Promise<string> {
  const out = JSON.parse(await npm(["view", `${PACKAGE}@${version}`, "dist.integrity", "--json"]));
  if (typeof out !== "string" || !out.startsWith("sha512-")) {
    throw new Error(`${PACKAGE}@${version}: no sha512 integrity in the registry metadata`);
  }
  return out;
}

/** What {@linkcode fetchAarch64Deno} produced. */
export interface FetchedDeno {
  /** The unpacked aarch64 `deno` executable (inside the caller's directory). */
  readonly deno: string;
  /** The verified integrity string. */
  readonly integrity: string;
  /** True when the tarball came from the cache. */
  readonly cached: boolean;
}

/**
 * Returns the aarch64 `deno` of `version`, unpacked into `into` (a directory the caller owns and
 * removes). Downloads the tarball into the cache when it is missing or fails the check; throws
 * when a fresh download does not match the registry's integrity.
 */
export async function fetchAarch64Deno(
  version: string,
  options: { into: string; cache?: string },
): Promise<FetchedDeno> {
  const cache = options.cache ?? cacheDir();
  await Deno.mkdir(cache, { recursive: true });
  const tarball = `${cache}/deno-linux-arm64-glibc-${version}.tgz`;
  const integrity = await registryIntegrity(version);
  const matches = async () => {
    try {
      return await sha512Integrity(await Deno.readFile(tarball)) === integrity;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return false;
      throw e;
    }
  };
  let cached = true;
  if (!await matches()) {
    cached = false;
    // npm pack writes <scope>-<name>-<version>.tgz; a unique temp name keeps parallel runs apart.
    const tmp = await Deno.makeTempDir({ dir: cache, prefix: "fetch-" });
    try {
      await npm(["pack", `${PACKAGE}@${version}`, "--pack-destination", tmp, "--silent"]);
      await Deno.rename(`${tmp}/deno-linux-arm64-glibc-${version}.tgz`, tarball);
    } finally {
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
    if (!await matches()) {
      await Deno.remove(tarball).catch(() => {});
      throw new Error(`${PACKAGE}@${version}: the tarball does not match ${integrity}`);
    }
  }
  const r = await run("tar", ["-xzf", tarball, "-C", options.into, "package/deno"]);
  if (r.code !== 0) throw new Error(`tar -xzf ${tarball}: ${r.stderr.trim()}`);
  return { deno: `${options.into}/package/deno`, integrity, cached };
}
