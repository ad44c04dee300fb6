/**
 * The daemon's permission manifest: an embedded copy of `permissions.daemon` in deno.json (the
 * one `deno run|test|compile -P=daemon` uses). `manifest_test.ts` keeps the two identical, so code
 * that must reason about the permissions (check-config) can do so without reading deno.json at
 * run time (the compiled binary has no deno.json, and the daemon may not read it).
 *
 * Conventions (Deno's own matching rules, measured with Deno 2.9.6):
 * - read/write entries match a path and everything below it, by whole path components, after
 *   `..` is normalised; an entry ending in `/` is a directory in this project's convention (Deno
 *   ignores the slash), every other entry is one file.
 * - run: a bare name is resolved through PATH once at start-up (a name PATH cannot resolve only
 *   logs an "Info Failed to resolve" line); an absolute entry matches exactly that path, with no
 *   symlink resolution, so `/sbin/tc` and `/usr/sbin/tc` are listed separately. Spawning by name
 *   is allowed when PATH resolves the name to a listed name's path or to a listed absolute path.
 */

/** A Deno permission set as written in deno.json (only the kinds the daemon uses). */
export interface PermissionManifest {
  /** Programs the daemon may spawn: bare names (looked up in PATH) or absolute paths. */
  readonly run: readonly string[];
  /** Environment variables. */
  readonly env: {
    /** Readable variables (a trailing `*` is a prefix wildcard). */
    readonly allow: readonly string[];
    /**
     * Variables that read as unset instead of failing: colour switches that libraries probe
     * (the CLI parser used to, for `--help`); their values stay invisible.
     */
    readonly ignore: readonly string[];
  };
  /**
   * `HOST:PORT` the daemon may listen on (`metrics_listen`, port 9101) or connect to (`mqtt_url`,
   * a local broker on 1883); Deno's `--allow-net` entries.
   */
  readonly net: readonly string[];
  /** Files and directories (trailing `/`) the daemon may read. */
  readonly read: readonly string[];
  /** Files and directories (trailing `/`) the daemon may write. */
  readonly write: readonly string[];
}

/** Stats directory for non-default stats file names (e.g. one per WAN instance). */
export const STATS_DIR = "/tmp/sqm-autorate/";

/** Directory for user files the daemon reads: per-instance configs, Lua scripts, reflectors. */
export const ETC_DIR = "/etc/sqm-autorate/";

/** The UCI package file upstream reads. */
export const UCI_FILE = "/etc/config/sqm-autorate";

/**
 * The embedded copy of deno.json's `permissions.daemon` (same order, same spelling).
 * Net only for port 9101 (`metrics_listen`) and a local MQTT broker on 1883 (`mqtt_url`), no
 * sys, no ffi, no import. The stats files are readable
 * too because Deno.stat and Deno.rename (size check and rotation to `.1`) need read access.
 */
export const DAEMON_MANIFEST: PermissionManifest = {
  run: [
    "tc",
    "ip",
    "fping",
    "ping",
    "tsping",
    "/usr/sbin/tc",
    "/sbin/tc",
    "/usr/sbin/ip",
    "/sbin/ip",
    "/usr/bin/ip",
    "/bin/ip",
    "/usr/bin/fping",
    "/usr/sbin/fping",
    "/usr/bin/ping",
    "/bin/ping",
    "/usr/bin/tsping",
    "/usr/local/bin/tsping",
    "ssh",
    "/usr/bin/ssh",
  ],
  env: {
    allow: ["SQMA_*"],
    ignore: ["CLICOLOR_FORCE", "FORCE_COLOR", "NO_COLOR"],
  },
  net: [
    "127.0.0.1:9101",
    "0.0.0.0:9101",
    "[::1]:9101",
    "[::]:9101",
    "127.0.0.1:1883",
    "localhost:1883",
    "[::1]:1883",
  ],
  read: [
    "/etc/config/sqm-autorate",
    "/etc/sqm-autorate/",
    "/usr/lib/sqm-autorate/",
    "/tmp/sqm-autorate/",
    "/tmp/sqm-autorate.csv",
    "/tmp/sqm-autorate.csv.1",
    "/tmp/sqm-speedhist.csv",
    "/tmp/sqm-speedhist.csv.1",
  ],
  write: [
    "/tmp/sqm-autorate/",
    "/tmp/sqm-autorate.csv",
    "/tmp/sqm-autorate.csv.1",
    "/tmp/sqm-speedhist.csv",
    "/tmp/sqm-speedhist.csv.1",
  ],
};
