/**
 * Reading the UCI file: `--config FILE`, else upstream's path when it exists. Kept apart from the
 * settings' resolution (and its schema) so that a test can run it as an unprivileged user.
 */
import { parseUci, type UciFile } from "./uci.ts";
import { errorText } from "../util/error_text.ts";

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
 * in which case it is an error. A file the user may not read is an error either way: read as
 * missing, its settings would be reported as not set (docs/formats.md §1). Only a path the
 * permission set does not let Deno look at is taken for missing when not asked for (whether it
 * exists cannot be told then). Malformed files are errors.
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
    if (e instanceof Deno.errors.NotFound) {
      throw new ConfigFileError(path, "no such file (given with --config)");
    }
    if (e instanceof Deno.errors.PermissionDenied) {
      throw new ConfigFileError(
        path,
        `not readable by this user: ${errorText(e)}; run sqm-autorate as root (e.g. with sudo), ` +
          "make the file readable or give another with --config FILE",
      );
    }
    if (e instanceof Deno.errors.NotCapable) {
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
