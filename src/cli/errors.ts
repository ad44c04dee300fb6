import { ConfigError, ConfigFileError, UciSyntaxError } from "../config/mod.ts";
import { ExitCode } from "../util/exit_codes.ts";
import type { CliIo } from "./io.ts";

/**
 * If `error` is a configuration error, prints it and returns 78; otherwise returns undefined so
 * the caller rethrows.
 */
export function configErrorExit(io: CliIo, error: unknown): number | undefined {
  if (
    error instanceof ConfigError || error instanceof UciSyntaxError ||
    error instanceof ConfigFileError
  ) {
    if (error instanceof ConfigError) {
      for (const w of error.warnings) io.err(`warning: ${w}\n`);
    }
    io.err(`sqm-autorate: invalid configuration:\n${error.message}\n`);
    return ExitCode.CONFIG;
  }
  return undefined;
}
