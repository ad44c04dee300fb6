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

/**
 * Loads `reflector_list_file` (or the embedded list) and reports what is wrong with it. Fewer
 * reflectors than `num_reflectors` is a warning: the daemon runs with those it has (a short set,
 * src/reflectors/short_pool.ts), but none is left to replace one that stops answering.
 */
export async function checkReflectorList(
  settings: Pick<Settings, "reflector_list_file" | "num_reflectors">,
  options: { readTextFile?: (path: string) => Promise<string> } = {},
): Promise<ReflectorListCheck> {
  const warnings: string[] = [];
  try {
    const pool = await loadPool(settings.reflector_list_file, {
      readTextFile: options.readTextFile,
      warn: (m) => warnings.push(m),
    });
    if (pool.length < settings.num_reflectors) {
      const list = settings.reflector_list_file === ""
        ? "the embedded reflector list"
        : `reflector_list_file ${settings.reflector_list_file}`;
      warnings.push(
        `${list} holds ${pool.length} reflector(s), fewer than num_reflectors ` +
          `(${settings.num_reflectors}): the daemon pings those ${pool.length}, each up to twice ` +
          "as often, with none to replace one that stops answering; list at least " +
          `${settings.num_reflectors} (more to have spares) or set num_reflectors to ${pool.length}`,
      );
    }
    return { problems: [], warnings, pool };
  } catch (e) {
    return { problems: [(e as Error).message], warnings };
  }
}
