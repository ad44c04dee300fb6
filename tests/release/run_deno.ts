/** Helpers for the release tests: run `deno` subprocesses from the repository root. */
import { v8FlagsArg } from "../../src/release/v8_flags.ts";

/** Repository root (where deno.json is). */
export const ROOT: string = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** Result of one subprocess. */
export interface RunResult {
  /** Exit code. */
  code: number;
  /** Captured stdout. */
  stdout: string;
  /** Captured stderr. */
  stderr: string;
}

/** Options of {@linkcode runDeno}. */
export interface RunDenoOptions {
  /** Extra environment (merged over the inherited one unless `clearEnv`). */
  env?: Record<string, string>;
  /** Start from an empty environment (PATH is kept so tools resolve). */
  clearEnv?: boolean;
  /** Working directory (default: repository root). */
  cwd?: string;
  /**
   * The deno to run, with any launcher before it (default: this deno), e.g. an aarch64 deno
   * under qemu-user (tests/aarch64/).
   */
  deno?: readonly string[];
}

/** Runs `deno <args>` and captures its output. */
export async function runDeno(args: string[], options: RunDenoOptions = {}): Promise<RunResult> {
  const env = options.clearEnv
    ? { PATH: Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin", ...options.env }
    : options.env;
  const [exe, ...before] = options.deno ?? [Deno.execPath()];
  const out = await new Deno.Command(exe, {
    args: [...before, ...args],
    cwd: options.cwd ?? ROOT,
    env,
    clearEnv: options.clearEnv ?? false,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** `deno run` under exactly the daemon manifest, never prompting. */
export function daemonRunArgs(script: string, args: string[] = []): string[] {
  return ["run", "-P=daemon", "--no-prompt", "--config", `${ROOT}/deno.json`, script, ...args];
}

/**
 * {@linkcode daemonRunArgs} plus the V8 flags `deno task compile` bakes into the binary: the
 * program runs as the release binary runs it.
 */
export function binaryRunArgs(script: string, args: string[] = []): string[] {
  const [run, ...rest] = daemonRunArgs(script, args);
  return [run, v8FlagsArg(), ...rest];
}

/** Throws with both streams when `r.code` is not `want`. */
export function expectCode(r: RunResult, want: number, what: string): void {
  if (r.code !== want) {
    throw new Error(
      `${what}: exit ${r.code}, wanted ${want}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`,
    );
  }
}

/** True when a path exists. */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
