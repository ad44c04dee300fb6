/**
 * Where setting values come from and how a bad one is reported: shared by the resolution
 * (resolve.ts) and the cross-setting checks (validate.ts).
 */
import type { SettingName } from "./settings_table.ts";
import type { UciFile } from "./uci.ts";

/** Where a setting's effective value came from. */
export type SettingSource =
  | { kind: "flag"; flag: string }
  | { kind: "env"; name: string }
  | { kind: "uci"; path: string; line: number; address: string }
  | { kind: "default" };

/** A required setting that nothing set: the source of its "is required" problem. */
export type UnsetSource = { kind: "unset" };

/** One bad value: the setting, where it came from, the value, and what was wrong. */
export interface SettingProblem {
  /** Setting name (upstream internal name), or the Rust port's `dry_run` (refused). */
  setting: SettingName | "dry_run";
  /** Source of the bad value (`unset` for a required setting nothing set). */
  source: SettingSource | UnsetSource;
  /** The raw value as given. */
  value: string;
  /** What is wrong and what is accepted. */
  message: string;
}

/** Raw values from the command line, keyed by setting name. */
export type FlagValues = Partial<Record<SettingName, string | string[] | boolean>>;

/** The inputs of settings resolution. Precedence: flags > env > UCI > default. */
export interface SettingsInput {
  /** Values given as CLI flags. */
  flags?: FlagValues;
  /** Environment lookup (one variable at a time: the daemon may only read `SQMA_*`). */
  env?: (name: string) => string | undefined;
  /** The parsed UCI file, if any. */
  uci?: UciFile;
  /** Names of the environment's variables, to warn about unknown `SQMA_*` ones. */
  envNames?: readonly string[];
}

/** `flag --x`, `env SQMA_X`, `FILE:LINE (@type[0].option)`, `default` or `not set`. */
export function describeSource(source: SettingSource | UnsetSource): string {
  switch (source.kind) {
    case "flag":
      return `flag --${source.flag}`;
    case "env":
      return `env ${source.name}`;
    case "uci":
      return `${source.path}:${source.line} (${source.address})`;
    case "unset":
      return "not set";
    default:
      return "default";
  }
}
