import type { Command } from "commander";
import { ExitCode } from "./exit_codes.ts";
import type { CliContext } from "./io.ts";
import { settingsFromCommand } from "./settings_options.ts";
import { configureLogging } from "../log/mod.ts";

/** `run`: resolves the settings (interfaces and base rates required) and runs the daemon. */
export async function runAction(cmd: Command, ctx: CliContext): Promise<number> {
  const resolved = settingsFromCommand(cmd, { requireDaemon: true });
  configureLogging(resolved.settings.log_level);
  for (const w of resolved.warnings) ctx.io.err(`warning: ${w}\n`);
  await Promise.resolve();
  ctx.io.err("sqm-autorate: the daemon is not wired yet\n");
  return ExitCode.FAILURE;
}
