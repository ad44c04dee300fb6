/**
 * The command line: `run` (default), `check-config`, `show-settings`, and the subcommands other
 * stages register. Every command returns an exit code instead of calling `Deno.exit`, so `main.ts`
 * can clean up children first and tests can run commands in-process.
 */
import { Command, CommanderError } from "commander";
import denoJson from "../../deno.json" with { type: "json" };
import { settingsHelpText } from "../config/help.ts";
import { ExitCode } from "../util/exit_codes.ts";
import { type CliContext, type CliIo, processIo } from "./io.ts";
import { configErrorExit } from "./errors.ts";

export type { CliContext, CliIo };
export { processIo };
import { addSettingOptions, normalizeArgv } from "./settings_options.ts";
import { checkConfigAction, showSettingsAction } from "./config_commands.ts";
import { runAction } from "./run_command.ts";
import { registerSimulateCommand } from "./simulate_command.ts";
import { registerReflectorsCommand } from "./reflectors_command.ts";
import { registerPlotCommand } from "./plot_command.ts";

/** The program version (from deno.json). */
export const VERSION: string = denoJson.version;

/** Builds the commander program; `ctx` receives the exit code. */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command("sqm-autorate")
    .description(
      "Keeps latency low on variable-rate links by re-tuning the CAKE/HTB/TBF shaper rate " +
        "from one-way delay and load.",
    )
    .version(`sqm-autorate ${VERSION}`, "-V, --version", "print the version and exit")
    .exitOverride()
    .configureOutput({ writeOut: ctx.io.out, writeErr: ctx.io.err })
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText("after", `\n${settingsHelpText()}\n`);

  addSettingOptions(
    program.command("run", { isDefault: true })
      .description("run the daemon (the default command)"),
  ).action(async (_opts, cmd: Command) => {
    ctx.exitCode = await runAction(cmd);
  });

  addSettingOptions(
    program.command("check-config")
      .description("print the effective settings with their sources; exit 0, or 78 on any error"),
  ).action(async (_opts, cmd: Command) => {
    ctx.exitCode = await checkConfigAction(cmd, ctx);
  });

  addSettingOptions(
    program.command("show-settings")
      .description("print every setting as `name: value (type)` (upstream's --show-settings)"),
  ).action((_opts, cmd: Command) => {
    ctx.exitCode = showSettingsAction(cmd, ctx);
  });

  const setExitCode = (code: number) => void (ctx.exitCode = code);
  registerSimulateCommand(program, { io: ctx.io, setExitCode });
  registerReflectorsCommand(program, { io: ctx.io, setExitCode });
  registerPlotCommand(program, { io: ctx.io, setExitCode });
  return program;
}

/** Runs the CLI with `argv` (without the program name) and returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const ctx: CliContext = { io, exitCode: ExitCode.OK };
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(normalizeArgv(argv), { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version "errors" are normal exits.
      return e.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    }
    const code = configErrorExit(io, e);
    if (code !== undefined) return code;
    io.err(`sqm-autorate: internal error: ${(e as Error)?.stack ?? e}\n`);
    return ExitCode.SOFTWARE;
  }
  return ctx.exitCode;
}
