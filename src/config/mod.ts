/**
 * Settings: one declarative table (settings_table.ts) from which the schema, CLI options, env and
 * UCI lookups, help and README table are derived; resolution with precedence
 * CLI > env > UCI > default.
 */
import { ConfigError, type FlagValues, type ResolvedSettings, resolveSettings } from "./resolve.ts";
import { DEFAULT_CONFIG_PATH, readUciFile } from "./uci_file.ts";

export * from "./settings_table.ts";
export * from "./resolve.ts";
export * from "./uci.ts";
export * from "./uci_file.ts";
export type { Settings } from "./types.ts";
export { deriveSettings, settingsWithDefaults } from "./defaults.ts";

/** What `loadSettings` needs. */
export interface LoadSettingsOptions {
  /** CLI flag values by setting name. */
  flags?: FlagValues;
  /** `--config FILE` when given. */
  configPath?: string;
  /** Environment lookup; defaults to `Deno.env.get` (one `SQMA_*` name at a time). */
  env?: (name: string) => string | undefined;
  /** Require the settings the daemon cannot run without. */
  requireDaemon?: boolean;
  /** Names of the environment's variables; default: the process environment's. */
  envNames?: readonly string[];
  /** The file read without `configPath` (tests); default upstream's `/etc/config/sqm-autorate`. */
  defaultConfigPath?: string;
}

/**
 * The process environment's variable names, to warn about unknown `SQMA_*` ones (under the
 * daemon's `SQMA_*` env permission Deno lists the allowed ones); empty when listing is refused.
 */
function environmentNames(): string[] {
  try {
    return Object.keys(Deno.env.toObject());
  } catch {
    return [];
  }
}

/** Reads the UCI file and resolves every setting. Throws ConfigError / UciSyntaxError. */
export function loadSettings(options: LoadSettingsOptions = {}): ResolvedSettings {
  const defaultPath = options.defaultConfigPath ?? DEFAULT_CONFIG_PATH;
  const uci = readUciFile(options.configPath ?? defaultPath, {
    explicit: options.configPath !== undefined,
  });
  try {
    return resolveSettings({
      flags: options.flags,
      env: options.env ?? ((name) => Deno.env.get(name)),
      envNames: options.envNames ?? environmentNames(),
      uci,
    }, { requireDaemon: options.requireDaemon });
  } catch (e) {
    // Settings left unset because the default file is not there: say so, or "is required" sends
    // the user looking for an option in a file that was never read (docs/formats.md §1).
    const unset = e instanceof ConfigError && e.problems.some((p) => p.source.kind === "unset");
    if (!unset || uci !== undefined || options.configPath !== undefined) throw e;
    throw new ConfigError([...e.problems], [
      ...e.warnings,
      `no configuration file: ${defaultPath} was not found, so only flags and SQMA_* variables ` +
      'were read; create it (docs/install.md, "Configure") or give one with --config FILE' +
      // The Rust port's later UCI file carries the same sections and options.
      ` (coming from the Rust port: copy its ${defaultPath}-rust there; docs/install.md, ` +
      '"Coming from upstream or the Rust port")',
    ]);
  }
}
