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

/** Why ext4 image tests cannot run here ({@linkcode withExt4}), or undefined when they can. */
export async function ext4SkipReason(): Promise<string | undefined> {
  if (Deno.uid() !== 0) return "not root";
  if (!(await sh("sh", ["-c", "command -v mkfs.ext4 && test -e /dev/loop-control"])).ok) {
    return "no mkfs.ext4 or loop devices";
  }
  return undefined;
}

/**
 * Runs `mount(dir)` on a fresh directory named after `kind`, then `fn` with it; always unmounts
 * it and removes the directory.
 */
async function withMounted<T>(
  kind: string,
  mount: (dir: string) => Promise<unknown>,
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: `sqma-${kind}-${Deno.pid}-` });
  try {
    await mount(dir);
    try {
      return await fn(dir);
    } finally {
      if (!(await sh("umount", [dir])).ok) await sh("umount", ["-l", dir]);
    }
  } finally {
    await Deno.remove(dir);
  }
}

/** Mounts a `kib` KiB tmpfs on a fresh directory, runs `fn` with it, always unmounts it. */
export function withTmpfs<T>(kib: number, fn: (dir: string) => Promise<T>): Promise<T> {
  return withMounted(
    "tmpfs",
    (dir) => must("mount", ["-t", "tmpfs", "-o", `size=${kib}k`, "tmpfs", dir]),
    fn,
  );
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

/**
 * Mounts a fresh `kib` KiB ext4 image (loop device, `errors=remount-ro`) on a fresh directory,
 * runs `fn` with it, always unmounts it and deletes the image. Unlike a tmpfs, the kernel itself
 * turns it read-only on an error ({@linkcode ext4Error}), even with files open for writing, as a
 * router's flash or SD card does when its file system is damaged.
 */
export async function withExt4<T>(kib: number, fn: (dir: string) => Promise<T>): Promise<T> {
  const image = await Deno.makeTempFile({ prefix: `sqma-ext4-${Deno.pid}-`, suffix: ".img" });
  try {
    await must("truncate", ["-s", `${kib}K`, image]);
    await must("mkfs.ext4", ["-q", "-F", image]);
    return await withMounted(
      "ext4",
      (dir) => must("mount", ["-o", "loop,errors=remount-ro", image, dir]),
      fn,
    );
  } finally {
    await Deno.remove(image);
  }
}

/**
 * Makes the kernel report an error on the ext4 file system mounted at `dir` (its
 * `trigger_fs_error` knob), which `errors=remount-ro` turns into a read-only file system at once.
 */
export async function ext4Error(dir: string): Promise<void> {
  const source = (await must("findmnt", ["-n", "-o", "SOURCE", dir])).trim();
  const device = source.replace(/^\/dev\//, "");
  // Deno opens nothing under /sys without --allow-all: a shell writes it.
  await must("sh", ["-c", `echo sqma-test > /sys/fs/ext4/${device}/trigger_fs_error`]);
}
