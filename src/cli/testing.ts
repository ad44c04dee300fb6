/** Helpers for the CLI tests. */
import type { CliIo } from "./io.ts";
import type { CommandSpec } from "./args.ts";
import { runCommand } from "./dispatch.ts";

/** A `CliIo` that keeps what was written. */
export function captureIo(): CliIo & { stdout: string; stderr: string } {
  const io = {
    stdout: "",
    stderr: "",
    out(text: string) {
      io.stdout += text;
    },
    err(text: string) {
      io.stderr += text;
    },
  };
  return io;
}

/** The flags `check-config` and `run` need at least (interfaces and base rates). */
export const REQUIRED: readonly string[] = [
  "--upload-interface",
  "wan",
  "--download-interface",
  "ifb4wan",
  "--upload-base-kbits",
  "10000",
  "--download-base-kbits",
  "50000",
];

/**
 * Runs `command` as a subcommand of a bare program (`sqm-autorate NAME ARGS…`) through the
 * parser, as runCli does for the real table; returns the exit code and the output.
 */
export async function runSubcommand(
  command: (io: CliIo) => CommandSpec,
  args: readonly string[],
): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo();
  const spec = command(io);
  const program: CommandSpec = { name: "sqm-autorate", description: "", subcommands: [spec] };
  const code = await runCommand(program, [spec.name, ...args], io);
  return { code, out: io.stdout, err: io.stderr };
}
