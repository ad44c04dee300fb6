/**
 * The manifest check in the shape `check-config` registers (`ConfigCheck` in config/check.ts): turns
 * {@linkcode checkPathsAgainstManifest} issues into warnings when this process may use the path
 * (a checkout's `-P=dev`: only the installed daemon would fail, and a file meant to be copied to
 * the router is fine to check where it is) and into errors when it may not (the installed
 * daemon's own permissions: it cannot work).
 */
import { resolve } from "../util/posix_path.ts";
import type { ConfigCheckResult } from "../config/check.ts";
import type { ResolvedSettings } from "../config/mod.ts";
import { DAEMON_MANIFEST } from "./manifest.ts";
import { checkPathsAgainstManifest, type ManifestPathIssue } from "./manifest_paths.ts";
import { netProblems } from "./manifest_net.ts";

/**
 * `check-config` check: warns about every configured path the installed daemon may not use, and
 * rejects a listen address or MQTT broker outside the manifest (the daemon could not use them).
 */
export function manifestConfigCheck(resolved: ResolvedSettings): Promise<ConfigCheckResult> {
  const configPath = resolved.uci?.path;
  const issues = checkPathsAgainstManifest(resolved.settings, DAEMON_MANIFEST, {
    // A relative --config is read from the working directory; judge where it really is.
    configPath: configPath === undefined ? undefined : resolve(configPath),
  });
  // Running under permissions that deny the path too (the installed daemon's): it cannot work,
  // an error. Allowed here (a checkout's -P=dev): only the installed daemon would fail, a warning.
  const deniedHere = issues.filter((i) => !grantedHere(i));
  // A listen address or broker outside the manifest: the daemon could not use it at all.
  const net = netProblems(resolved.settings, DAEMON_MANIFEST);
  return Promise.resolve({
    problems: [...deniedHere.map((i) => i.message), ...net],
    warnings: issues.filter((i) => grantedHere(i)).map((i) => i.message),
  });
}

/** Whether this process may use the path of `issue` the way the daemon needs to. */
function grantedHere(issue: ManifestPathIssue): boolean {
  const path = issue.setting === "config" ? resolve(issue.value) : issue.value;
  const descriptor: Deno.PermissionDescriptor = issue.access === "run"
    ? { name: "run", command: path }
    : { name: issue.access, path };
  try {
    return Deno.permissions.querySync(descriptor).state === "granted";
  } catch {
    return false;
  }
}
