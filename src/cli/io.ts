/** Where a command writes. Defaults to the process's stdout and stderr. */
export interface CliIo {
  /** Normal output (tables, JSON). */
  out(text: string): void;
  /** Errors and diagnostics. */
  err(text: string): void;
}

const encoder = new TextEncoder();

/** The real stdout/stderr. */
export const processIo: CliIo = {
  out: (text) => void Deno.stdout.writeSync(encoder.encode(text)),
  err: (text) => void Deno.stderr.writeSync(encoder.encode(text)),
};

/** The state shared by command actions: the IO and the exit code they set. */
export interface CliContext {
  /** Output channels. */
  io: CliIo;
  /** Exit code chosen by the action that ran. */
  exitCode: number;
}
