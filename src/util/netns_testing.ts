/**
 * Helpers for tests that need real network namespaces (root). Every namespace a test makes has
 * a unique name and is deleted afterwards, whatever happens; traffic stays inside it.
 */
import { defaultCommandRunner } from "./command.ts";

/** Runs a command; `ok` is a zero exit. */
export async function sh(
  cmd: string,
  args: readonly string[],
): Promise<{ ok: boolean; out: string; err: string }> {
  const r = await defaultCommandRunner(cmd, args);
  return { ok: r.code === 0, out: r.stdout, err: r.stderr };
}

/** Runs a command and returns its stdout; throws with its stderr when it fails. */
export async function must(cmd: string, args: readonly string[]): Promise<string> {
  const r = await sh(cmd, args);
  if (!r.ok) throw new Error(`${cmd} ${args.join(" ")}: ${r.err.trim()}`);
  return r.out;
}

/** Why namespace tests cannot run here (not root, no `ip netns`), or undefined when they can. */
export async function netnsSkipReason(): Promise<string | undefined> {
  if (Deno.uid() !== 0) return "not root";
  const r = await sh("ip", ["netns", "list"]);
  if (!r.ok) return `ip netns unavailable: ${r.err.trim()}`;
  return undefined;
}

/**
 * Creates a namespace named `<prefix>-<pid>` with `lo` up, runs `fn` with its name and always
 * deletes it afterwards.
 */
export async function withNetns<T>(prefix: string, fn: (ns: string) => Promise<T>): Promise<T> {
  const ns = `${prefix}-${Deno.pid}`;
  await sh("ip", ["netns", "del", ns]); // a leftover of a killed run
  await must("ip", ["netns", "add", ns]);
  try {
    await must("ip", ["-n", ns, "link", "set", "lo", "up"]);
    return await fn(ns);
  } finally {
    await sh("ip", ["netns", "del", ns]);
  }
}
