/**
 * Helpers for tests that need a real, tiny tmpfs (root: `mount`), like a router's /tmp: one that
 * fills up or turns read-only while the daemon writes. Every mount is on a fresh directory named
 * after the test's PID and is unmounted afterwards, whatever happens.
 */
import { must, sh } from "./netns_testing.ts";

/** Why tmpfs tests cannot run here, or undefined when they can. */
export function tmpfsSkipReason(): string | undefined {
  return Deno.uid() === 0 ? undefined : "not root";
}

/** Mounts a `kib` KiB tmpfs on a fresh directory, runs `fn` with it, always unmounts it. */
export async function withTmpfs<T>(kib: number, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: `sqma-tmpfs-${Deno.pid}-` });
  try {
    await must("mount", ["-t", "tmpfs", "-o", `size=${kib}k`, "tmpfs", dir]);
    try {
      return await fn(dir);
    } finally {
      if (!(await sh("umount", [dir])).ok) await sh("umount", ["-l", dir]);
    }
  } finally {
    await Deno.remove(dir);
  }
}

/** Remounts the tmpfs at `dir` read-only (`ro = true`) or read-write. */
export async function remount(dir: string, ro: boolean): Promise<void> {
  await must("mount", ["-o", `remount,${ro ? "ro" : "rw"}`, dir]);
}

/** Fills the file system of `dir` with the file `dir/filler` until a write fails with ENOSPC. */
export async function fillUp(dir: string): Promise<void> {
  const f = await Deno.open(`${dir}/filler`, { write: true, create: true });
  try {
    const block = new Uint8Array(4096);
    for (;;) await f.write(block);
  } catch (e) {
    if (!String(e).includes("No space left")) throw e;
  } finally {
    f.close();
  }
}
