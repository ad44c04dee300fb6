/**
 * Small wrappers around `Deno.Command` for the end-to-end testbed: argument arrays only (no
 * shell), bounded run times, and synchronous variants for cleanup from signal/unload handlers.
 */

/** Result of a finished command. */
export interface CmdResult {
  /** Exit code (`-1` when the command could not be started). */
  readonly code: number;
  /** Decoded stdout. */
  readonly stdout: string;
  /** Decoded stderr (or the spawn error message). */
  readonly stderr: string;
}

const decoder = new TextDecoder();

/** Runs `argv` synchronously and returns its result; never throws. */
export function runSync(argv: readonly string[]): CmdResult {
  try {
    const out = new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  } catch (e) {
    return { code: -1, stdout: "", stderr: String(e) };
  }
}

/** Runs `argv` synchronously and throws a message naming the command when it fails. */
export function mustSync(argv: readonly string[]): string {
  const r = runSync(argv);
  if (r.code !== 0) {
    throw new Error(`command failed (exit ${r.code}): ${argv.join(" ")}\n${r.stderr.trim()}`);
  }
  return r.stdout;
}

/** Options for {@linkcode runAsync}. */
export interface RunAsyncOptions {
  /** Kill the command (SIGKILL) after this many milliseconds. */
  readonly timeoutMs?: number;
}

/** Runs `argv` asynchronously (so timers keep running) with a time limit; never throws. */
export async function runAsync(
  argv: readonly string[],
  options: RunAsyncOptions = {},
): Promise<CmdResult> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    return { code: -1, stdout: "", stderr: String(e) };
  }
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
  }, options.timeoutMs ?? 10_000);
  try {
    const out = await child.output();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * True when a process with this pid exists. Asks `kill -0` rather than looking at /proc: Deno
 * reads /proc only with --allow-all, and a failed look would call every other run's namespaces
 * stale (parallel runs then deleted each other's testbeds).
 */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const r = runSync(["sh", "-c", 'kill -0 "$0" 2>/dev/null', String(pid)]);
  return r.code === 0;
}
