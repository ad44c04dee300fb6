/**
 * Settings: one declarative table (settings_table.ts) from which the schema, CLI options, env and
 * UCI lookups, help and README table are derived; resolution with precedence
 * CLI > env > UCI > default.
 */
import { parseUci, type UciFile, UciSyntaxError } from "./uci.ts";
import { type FlagValues, type ResolvedSettings, resolveSettings } from "./resolve.ts";
import { errorText } from "../util/error_text.ts";

export * from "./settings_table.ts";
export * from "./resolve.ts";
export * from "./uci.ts";
export type { Settings } from "./types.ts";
export { deriveSettings, settingsWithDefaults } from "./defaults.ts";

/** Upstream's UCI file. */
export const DEFAULT_CONFIG_PATH = "/etc/config/sqm-autorate";

/** A config file that could not be read (not a syntax error). */
export class ConfigFileError extends Error {
  /** Builds the message naming the file. */
  constructor(path: string, reason: string) {
    super(`${path}: ${reason}`);
    this.name = "ConfigFileError";
  }
}

/**
 * Reads a UCI file. A missing file is `undefined` unless it was asked for explicitly (`--config`),
 * in which case it is an error; unreadable and malformed files are errors.
 */
export function readUciFile(
  path: string,
  options: { explicit?: boolean } = {},
): UciFile | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound && !options.explicit) return undefined;
    if (e instanceof Deno.errors.NotFound) throw new ConfigFileError(path, "no such file");
    if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
      if (!options.explicit) return undefined;
      throw new ConfigFileError(
        path,
        `not readable: ${errorText(e)}; put it in /etc/sqm-autorate/ (or /etc/config/sqm-autorate)`,
      );
    }
    throw new ConfigFileError(path, (e as Error).message);
  }
  return parseUci(text, path);
}

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
  const uci = readUciFile(options.configPath ?? DEFAULT_CONFIG_PATH, {
    explicit: options.configPath !== undefined,
  });
  return resolveSettings({
    flags: options.flags,
    env: options.env ?? ((name) => Deno.env.get(name)),
    envNames: options.envNames ?? environmentNames(),
    uci,
  }, { requireDaemon: options.requireDaemon });
}

export { UciSyntaxError };
