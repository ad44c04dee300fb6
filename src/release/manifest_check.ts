/**
 * The manifest check in the shape `check-config` registers (`ConfigCheck` in config/check.ts): turns
 * {@linkcode checkPathsAgainstManifest} issues into warnings. They are warnings, not errors: the
 * manifest binds the installed daemon only, and a file checked from a checkout (`-P=dev`) or
 * meant to be copied to the router is fine to check where it is.
 */
import { resolve } from "node:path";
import type { ConfigCheckResult } from "../config/check.ts";
import type { ResolvedSettings } from "../config/mod.ts";
import { DAEMON_MANIFEST } from "./manifest.ts";
import { checkPathsAgainstManifest } from "./manifest_paths.ts";

/** `check-config` check: warns about every configured path the installed daemon may not use. */
export function manifestConfigCheck(resolved: ResolvedSettings): Promise<ConfigCheckResult> {
  const configPath = resolved.uci?.path;
  const issues = checkPathsAgainstManifest(resolved.settings, DAEMON_MANIFEST, {
    // A relative --config is read from the working directory; judge where it really is.
    configPath: configPath === undefined ? undefined : resolve(configPath),
  });
  return Promise.resolve({ problems: [], warnings: issues.map((i) => i.message) });
}
