/**
 * `stats_file` and `speedhist_file` as check-config and `run`'s start look at them: a path that
 * is a directory cannot take the rows (the daemon runs on without them, one ERROR at the first
 * write; docs/operation.md, "Statistics files on a full or read-only /tmp"), so it is named before.
 */
import type { Settings } from "../config/types.ts";
import { SETTINGS_TABLE } from "../config/settings_table.ts";
import { basename } from "../util/posix_path.ts";

/** The two statistics settings. */
const STATS_SETTINGS = ["stats_file", "speedhist_file"] as const;

/**
 * One warning per statistics file that is a directory (none with `suppress_statistics`, which
 * never opens them). A path that does not exist, or cannot be looked at, is left to the writer.
 */
export async function statsPathWarnings(
  settings: Pick<Settings, "stats_file" | "speedhist_file" | "suppress_statistics">,
  options: { stat?: (path: string) => Promise<Deno.FileInfo> } = {},
): Promise<string[]> {
  if (settings.suppress_statistics) return [];
  const stat = options.stat ?? ((p: string) => Deno.stat(p));
  const warnings: string[] = [];
  for (const setting of STATS_SETTINGS) {
    const path = settings[setting];
    if (path === "") continue;
    const isDirectory = await stat(path).then((i) => i.isDirectory, () => false);
    if (!isDirectory) continue;
    const example = `${path.replace(/\/+$/, "")}/${basename(SETTINGS_TABLE[setting].default)}`;
    warnings.push(
      `${setting} "${path}" is a directory: it takes no statistics (the daemon runs without ` +
        `them, one ERROR at the first write); give a file, e.g. ${example}, or set ` +
        "suppress_statistics",
    );
  }
  return warnings;
}
