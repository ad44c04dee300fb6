/**
 * `stats_file` and `speedhist_file` as check-config and `run`'s start look at them: a path that
 * is a directory cannot take the rows (the daemon runs on without them, one ERROR at the first
 * write; docs/operation.md, "Statistics files on a full or read-only /tmp"), so it is named before.
 * check-config also tries whether each can be written, without touching a file that is there.
 */
import type { Settings } from "../config/types.ts";
import { SETTINGS_TABLE } from "../config/settings_table.ts";
import { basename, dirname } from "../util/posix_path.ts";
import { errorText } from "../util/error_text.ts";

/** The two statistics settings. */
const STATS_SETTINGS = ["stats_file", "speedhist_file"] as const;

/** Options of {@linkcode statsPathWarnings}. */
export interface StatsPathOptions {
  /** Looks a path up (default `Deno.stat`). */
  stat?: (path: string) => Promise<Deno.FileInfo>;
  /**
   * Also try whether each file can be written (`check-config`; {@linkcode statsWriteProblem}).
   * Default false: `run` finds out by writing.
   */
  writable?: boolean;
}

/**
 * One warning per statistics file that is a directory, and with `writable` per one that cannot be
 * written (none with `suppress_statistics`, which never opens them). A path that does not exist,
 * or cannot be looked at, is left to the writer.
 */
export async function statsPathWarnings(
  settings: Pick<Settings, "stats_file" | "speedhist_file" | "suppress_statistics">,
  options: StatsPathOptions = {},
): Promise<string[]> {
  if (settings.suppress_statistics) return [];
  const stat = options.stat ?? ((p: string) => Deno.stat(p));
  const warnings: string[] = [];
  for (const setting of STATS_SETTINGS) {
    const path = settings[setting];
    if (path === "") continue;
    const isDirectory = await stat(path).then((i) => i.isDirectory, () => false);
    if (isDirectory) {
      const example = `${path.replace(/\/+$/, "")}/${basename(SETTINGS_TABLE[setting].default)}`;
      warnings.push(
        `${setting} "${path}" is a directory: it takes no statistics (the daemon runs without ` +
          `them, one ERROR at the first write); give a file, e.g. ${example}, or set ` +
          "suppress_statistics",
      );
      continue;
    }
    const problem = options.writable ? await statsWriteProblem(path) : undefined;
    if (problem === undefined) continue;
    warnings.push(
      `${setting} "${path}" cannot be written here: ${problem}; the daemon would run without ` +
        "these statistics (one ERROR at the first write): give a path it can write, or set " +
        "suppress_statistics",
    );
  }
  return warnings;
}

/**
 * Why the statistics file `path` cannot be written, or undefined when it can (or this process
 * may not look: a path outside its permission set is the manifest check's,
 * src/release/manifest_paths.ts). Neither the file nor its rotated copy is made, emptied or
 * written: a file there is opened for writing and closed (what a daemon running meanwhile writes
 * is untouched); the directory it is in, or that the writer would make (`mkdir -p`, from the
 * nearest one that exists), is tried with a file of its own, removed at once, since the writer
 * makes the file there and renames it to `.1` at a rotation. Where this process may not look at
 * the directory (the release permission set and `/tmp`), the file itself is made and removed.
 */
export async function statsWriteProblem(path: string): Promise<string | undefined> {
  try {
    // Only a regular file is opened: opening a FIFO for writing would wait for a reader.
    if ((await Deno.stat(path)).isFile) (await Deno.open(path, { write: true })).close();
  } catch (e) {
    if (e instanceof Deno.errors.NotCapable) return undefined;
    if (!(e instanceof Deno.errors.NotFound)) return errorText(e);
  }
  let dir = dirname(path);
  for (;;) {
    try {
      if (!(await Deno.stat(dir)).isDirectory) return `${dir} is not a directory`;
      break;
    } catch (e) {
      // Under the release permission set, /tmp itself for upstream's /tmp/sqm-autorate.csv.
      if (e instanceof Deno.errors.NotCapable) return await fileItselfProblem(path);
      if (!(e instanceof Deno.errors.NotFound) || dir === dirname(dir)) return errorText(e);
      dir = dirname(dir);
    }
  }
  try {
    await Deno.remove(await Deno.makeTempFile({ dir, prefix: ".sqm-autorate-check-" }));
  } catch (e) {
    if (e instanceof Deno.errors.NotCapable) return undefined;
    return `cannot make a file in ${dir}: ${errorText(e)}`;
  }
  return undefined;
}

/**
 * Why the missing file `path` cannot be made, trying the file itself (made and removed at once),
 * or undefined when it can or this process may not. For a directory this process may not look
 * into: a file of the check's own there would be outside its permissions too. A daemon that makes
 * the file between the two steps loses it, and its next write starts it again with its header and
 * one INFO line (src/report/csv_writer.ts appends by path).
 */
async function fileItselfProblem(path: string): Promise<string | undefined> {
  try {
    (await Deno.open(path, { write: true, createNew: true })).close();
  } catch (e) {
    if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.AlreadyExists) {
      return undefined;
    }
    return `cannot make it: ${errorText(e)}`;
  }
  await Deno.remove(path).catch(() => {});
  return undefined;
}
