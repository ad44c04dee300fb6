/**
 * check-config's manifest check: every path a setting names must be one the daemon's permission
 * manifest lets it use, so a misconfigured path fails at `check-config` with advice instead of as
 * a NotCapable error in the running daemon. Pure: no file system access.
 */
import * as posix from "../util/posix_path.ts";
import { SETTINGS_TABLE } from "../config/settings_table.ts";
import type { Settings } from "../config/types.ts";
import { DAEMON_MANIFEST, type PermissionManifest } from "./manifest.ts";
import { lockPath } from "../daemon/instance_lock.ts";
import { lockedInterfaces } from "../daemon/mod.ts";

/** The settings that name files or programs. */
export type ManifestPathSettings = Pick<
  Settings,
  | "stats_file"
  | "speedhist_file"
  | "suppress_statistics"
  | "reflector_list_file"
  | "pinger_binary"
  | "plugin_ratecontrol"
  | "plugin_scripts"
  | "rate_controller"
  | "state_dir"
  | "dl_if"
  | "ul_if"
  | "remote"
  | "remote_port"
>;

/** The kind of access a path needs. */
export type ManifestAccess = "read" | "write" | "run";

/** One configured path the manifest does not allow. */
export interface ManifestPathIssue {
  /** Setting name (upstream internal name), or `config` for the `--config` file. */
  readonly setting: string;
  /** The configured value. */
  readonly value: string;
  /** The access the daemon needs. */
  readonly access: ManifestAccess;
  /** What is wrong and which directory or file to use instead. */
  readonly message: string;
}

/** Extra inputs of {@linkcode checkPathsAgainstManifest}. */
export interface ManifestPathOptions {
  /** The UCI file given with `--config`, absolute (checked for read access when set). */
  readonly configPath?: string;
}

function isDirEntry(entry: string): boolean {
  return entry.endsWith("/");
}

function stripSlash(entry: string): string {
  return entry.length > 1 && entry.endsWith("/") ? entry.slice(0, -1) : entry;
}

/**
 * True when `path` (absolute) is covered by one of `entries` the way Deno matches read/write
 * permissions: the entry itself or anything below it, by whole path components, after `..` and
 * `.` are normalised.
 */
export function pathAllowed(path: string, entries: readonly string[]): boolean {
  if (!posix.isAbsolute(path)) return false;
  const p = stripSlash(posix.normalize(path));
  return entries.some((e) => {
    const base = stripSlash(posix.normalize(e));
    return p === base || p.startsWith(base === "/" ? "/" : `${base}/`);
  });
}

/**
 * True when `program` may be spawned under `runEntries`: a bare name must be listed as a name; a
 * path must be absolute and listed exactly (Deno does not resolve symlinks here).
 */
export function programAllowed(program: string, runEntries: readonly string[]): boolean {
  if (!program.includes("/")) return runEntries.includes(program);
  if (!posix.isAbsolute(program)) return false;
  const p = posix.normalize(program);
  return runEntries.some((e) => e.startsWith("/") && posix.normalize(e) === p);
}

function where(entries: readonly string[]): string {
  const dirs = entries.filter(isDirEntry);
  const files = entries.filter((e) => !isDirEntry(e));
  const parts: string[] = [];
  if (dirs.length > 0) parts.push(`a file in ${dirs.join(" or ")}`);
  if (files.length > 0) parts.push(files.length === 1 ? files[0] : `one of ${files.join(", ")}`);
  return parts.join(", or ");
}

/** Script values with a `/` are file paths; bare names are `ewma`, `builtin:<name>` or modules. */
function looksLikePath(value: string): boolean {
  return value.includes("/");
}

/**
 * Checks every configured path against `manifest` (default: the daemon manifest) and returns one
 * issue per path the daemon would not be allowed to use; an empty list means all is well.
 *
 * Checked: `stats_file` and `speedhist_file` with their rotated `.1` copies (read + write, since
 * rotation stats and renames them; skipped when `suppress_statistics` is true because the files
 * are then never opened), `reflector_list_file` (read), Lua script paths in `plugin_ratecontrol`,
 * `plugin_scripts` and `rate_controller` (read; bare names such as `ewma`, `builtin:ewma` or a
 * module name are not paths), `state_dir` (read + write: it and the interfaces' lock files in it), `pinger_binary`
 * (run), and the
 * `--config` file (read). Relative paths are rejected: the daemon's working directory is `/`
 * under procd and systemd, so they would not mean what the user expects.
 */
export function checkPathsAgainstManifest(
  settings: ManifestPathSettings,
  manifest: PermissionManifest = DAEMON_MANIFEST,
  options: ManifestPathOptions = {},
): ManifestPathIssue[] {
  const issues: ManifestPathIssue[] = [];
  const relative = (setting: string, value: string, access: ManifestAccess) =>
    issues.push({
      setting,
      value,
      access,
      message: `${setting} "${value}" must be an absolute path (the daemon runs in /)`,
    });

  // Single stats files are readable only for rotation; they are no place for user files. A
  // directory that is writable too (/tmp/sqm-autorate/) is a fine place for anything.
  const isStatsEntry = (e: string) => !isDirEntry(e) && manifest.write.includes(e);
  const needRead = (setting: string, value: string) => {
    if (!posix.isAbsolute(value)) return relative(setting, value, "read");
    if (pathAllowed(value, manifest.read)) return;
    issues.push({
      setting,
      value,
      access: "read",
      message: `${setting} "${value}" is outside what the installed daemon may read ` +
        `(permissions.daemon.read): use ${where(manifest.read.filter((e) => !isStatsEntry(e)))}`,
    });
  };

  const needStats = (setting: "stats_file" | "speedhist_file") => {
    const value = settings[setting];
    if (!posix.isAbsolute(value)) return relative(setting, value, "write");
    const rotated = `${value}.1`;
    const ok = [value, rotated].every((p) =>
      pathAllowed(p, manifest.write) && pathAllowed(p, manifest.read)
    );
    if (ok) return;
    const dirs = manifest.write.filter(isDirEntry);
    const example = dirs.length > 0 ? ` (e.g. ${dirs[0]}${posix.basename(value)})` : "";
    issues.push({
      setting,
      value,
      access: "write",
      message: `${setting} "${value}" (and its rotated copy ${rotated}) is outside what the ` +
        `installed daemon may write (permissions.daemon.write): use ${
          where(dirs)
        }${example}, or the ` +
        `default ${SETTINGS_TABLE[setting].default}`,
    });
  };

  if (!settings.suppress_statistics) {
    needStats("stats_file");
    needStats("speedhist_file");
  }
  // The interface locks (src/daemon/instance_lock.ts) are made, read and written in it; where
  // the daemon may not, it runs without them (one ERROR at start) and keeps no second daemon out.
  const state = settings.state_dir;
  if (!posix.isAbsolute(state)) relative("state_dir", state, "write");
  else {
    const lockFiles = lockedInterfaces(settings).map((i) => lockPath(state, i));
    const ok = [state, ...lockFiles].every((p) =>
      pathAllowed(p, manifest.write) && pathAllowed(p, manifest.read)
    );
    if (!ok) {
      issues.push({
        setting: "state_dir",
        value: state,
        access: "write",
        message: `state_dir "${state}" is outside what the installed daemon may write ` +
          `(permissions.daemon.write): it would run without its interface locks, keeping no ` +
          `second daemon off them; use ${SETTINGS_TABLE.state_dir.default} (the default) or a ` +
          `directory in ${manifest.write.filter(isDirEntry).join(" or ")}`,
      });
    }
  }
  if (settings.reflector_list_file !== "") {
    needRead("reflector_list_file", settings.reflector_list_file);
  }
  if (settings.plugin_ratecontrol !== "" && looksLikePath(settings.plugin_ratecontrol)) {
    needRead("plugin_ratecontrol", settings.plugin_ratecontrol);
  }
  for (const script of settings.plugin_scripts) {
    if (looksLikePath(script)) needRead("plugin_scripts", script);
  }
  if (looksLikePath(settings.rate_controller)) {
    needRead("rate_controller", settings.rate_controller);
  }
  const pinger = settings.pinger_binary;
  if (pinger !== "" && !programAllowed(pinger, manifest.run)) {
    const absolute = manifest.run.filter((e) => e.startsWith("/"));
    issues.push({
      setting: "pinger_binary",
      value: pinger,
      access: "run",
      message: `pinger_binary "${pinger}" is not a program the daemon may run ` +
        `(permissions.daemon.run): use one of ${absolute.join(", ")}, or leave it empty to ` +
        `find tsping, fping or ping in PATH`,
    });
  }
  if (options.configPath !== undefined && options.configPath !== "") {
    needRead("config", options.configPath);
  }
  return issues;
}
