/** Runs one command table against the words of a command line. */
import { ExitCode } from "../util/exit_codes.ts";
import { type CommandSpec, parseArgs, UsageError } from "./args.ts";
import { helpText } from "./help_text.ts";
import type { CliIo } from "./io.ts";

/**
 * Parses `argv` for `spec` and runs the command: help and the version go to stdout (0), a usage
 * mistake to stderr (64; through `options.errors` when given, src/cli/early_errors.ts); returns
 * the exit code (errors the command throws propagate).
 */
export async function runCommand(
  spec: CommandSpec,
  argv: readonly string[],
  io: CliIo,
  options: { errors?: CliIo } = {},
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs(spec, argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    (options.errors ?? io).err(
      `${e.commandPath}: ${e.message}\n(run '${e.commandPath} --help' for usage)\n`,
    );
    return ExitCode.USAGE;
  }
  if (parsed.kind === "version") {
    io.out(`${parsed.version}\n`);
    return ExitCode.OK;
  }
  if (parsed.kind === "help") {
    io.out(helpText(parsed.command, parsed.path));
    return ExitCode.OK;
  }
  return await parsed.command.run!(parsed.args);
}
