/**
 * The shape of the extra checks `check-config` runs after the settings resolve. It lives with
 * the configuration so checks from other stages (Lua scripts, the release manifest) can be
 * written without importing the CLI.
 */
import type { ResolvedSettings } from "./resolve.ts";

/** Problems found by one check, with the exit code they call for. */
export interface ConfigCheckResult {
  /** Human-readable problems (empty = fine). */
  problems: string[];
  /** Exit code to use when there are problems (default 78). */
  exitCode?: number;
  /** Things worth knowing that do not make the configuration wrong. */
  warnings?: string[];
}

/**
 * One check: returns problems as text; any problem means a non-zero exit. `io.err` shows what a
 * check runs (e.g. the Lua scripts' log lines) on check-config's stderr.
 */
export type ConfigCheck = (
  resolved: ResolvedSettings,
  io?: { err(text: string): void },
) => Promise<ConfigCheckResult>;
