/**
 * The manifest check in the shape `check-config` registers (`registerConfigCheck`): turns
 * {@linkcode checkPathsAgainstManifest} issues into problem lines.
 */
import type { ConfigCheckResult } from "../cli/config_commands.ts";
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
