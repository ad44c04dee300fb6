/**
 * The manifest check in the shape `check-config` registers (`ConfigCheck` in config/check.ts): turns
 * {@linkcode checkPathsAgainstManifest} issues into problem lines.
 */
import type { ConfigCheckResult } from "../config/check.ts";
import type { ResolvedSettings } from "../config/mod.ts";
import { DAEMON_MANIFEST } from "./manifest.ts";
import { checkPathsAgainstManifest } from "./manifest_paths.ts";

/** `check-config` check: every configured path must be usable under the daemon manifest. */
export function manifestConfigCheck(resolved: ResolvedSettings): Promise<ConfigCheckResult> {
  const issues = checkPathsAgainstManifest(resolved.settings, DAEMON_MANIFEST, {
    configPath: resolved.uci?.path,
  });
  return Promise.resolve({ problems: issues.map((i) => i.message) });
}
