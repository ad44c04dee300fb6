/**
 * The reflector list check shared by `check-config` and `run`: the list is read and parsed the
 * way the daemon will, before anything starts, so a missing, empty or garbage file is a
 * configuration error (exit 78) instead of a failure after the shapers were touched.
 */
import type { ConfigCheckResult } from "../config/check.ts";
import type { Settings } from "../config/types.ts";
import { loadPool } from "./pool.ts";

/** The outcome: problems (fatal), warnings (skipped lines) and the pool when usable. */
export interface ReflectorListCheck extends ConfigCheckResult {
  /** The reflectors to use; undefined when there are problems. */
  pool?: string[];
}

/** Loads `reflector_list_file` (or the embedded list) and reports what is wrong with it. */
export async function checkReflectorList(
  settings: Pick<Settings, "reflector_list_file">,
  options: { readTextFile?: (path: string) => Promise<string> } = {},
): Promise<ReflectorListCheck> {
  const warnings: string[] = [];
  try {
    const pool = await loadPool(settings.reflector_list_file, {
      readTextFile: options.readTextFile,
      warn: (m) => warnings.push(m),
    });
    return { problems: [], warnings, pool };
  } catch (e) {
    return { problems: [(e as Error).message], warnings };
  }
}
