/** Runs external tools (`tc`, `ip`, pinger probes) with argument arrays, never through a shell. */

/** What a finished command produced. */
export interface CommandResult {
  /** Exit code (non-zero on failure; 124 when killed by the timeout, 127 when not runnable). */
  code: number;
  /** Standard output text. */
  stdout: string;
  /** Standard error text. */
  stderr: string;
}

/**
 * Runs `binary` with `args` and collects its output. Injected so tests can fake `tc`. `signal`
 * kills the program early (the real runner then reports it as timed out).
 */
export type CommandRunner = (
  binary: string,
  args: readonly string[],
  options?: { signal?: AbortSignal },
) => Promise<CommandResult>;

/** Exit code the runner reports when the program could not be started (as shells do). */
export const COMMAND_NOT_RUNNABLE = 127;

/** Exit code the runner reports when it killed the program at its timeout. */
export const COMMAND_TIMED_OUT = 124;

const decoder = new TextDecoder();

/** Builds the real runner; a command running longer than `timeoutMs` is killed. */
export function denoCommandRunner(options: { timeoutMs?: number } = {}): CommandRunner {
  const timeoutMs = options.timeoutMs ?? 5000;
  return async (binary, args, run = {}) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = run.signal ? AbortSignal.any([timeout, run.signal]) : timeout;
    try {
      const out = await new Deno.Command(binary, {
        args: [...args],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        signal,
        // Its own session, as the helpers' (src/util/coprocess.ts): a `tc` setting the exit rate
        // must not be ended by the Ctrl-C that asked for it.
        detached: true,
      }).output();
      const stderr = decoder.decode(out.stderr);
      if (signal.aborted) {
        return {
          code: COMMAND_TIMED_OUT,
          stdout: "",
          stderr: timeout.aborted
            ? `${binary}: timed out after ${timeoutMs} ms`
            : `${binary}: given up`,
        };
      }
      return { code: out.code, stdout: decoder.decode(out.stdout), stderr };
    } catch (e) {
      return {
        code: COMMAND_NOT_RUNNABLE,
        stdout: "",
        stderr: `${binary}: ${(e as Error).message}`,
      };
    }
  };
}

/** The default runner (5 s timeout). */
export const defaultCommandRunner: CommandRunner = denoCommandRunner();
