/** Helpers for the CLI tests. */
import type { CliIo } from "./io.ts";

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
