/**
 * The interface locks on a real, tiny tmpfs (root: `mount`), as in a router's /tmp/sqm-autorate/:
 * on a full one the locks hold without the PID in them; on a read-only one they cannot be taken
 * (the daemon then runs without them, docs/operation.md).
 */
import { assert, assertEquals, assertRejects } from "../util/assert.ts";
import { needs } from "../util/netns_testing.ts";
import {
  ext4Error,
  ext4SkipReason,
  fillUp,
  remount,
  tmpfsSkipReason,
  withExt4,
  withTmpfs,
} from "../util/tmpfs_testing.ts";
import { acquireInstanceLock, InstanceLockedError } from "./instance_lock.ts";

const reason = tmpfsSkipReason();
const interfaces = ["ifb4wan", "wan"];

Deno.test({
  ...needs(
    "tmpfs: on a full state dir the locks hold without the PID, a second taker is refused",
    reason,
  ),
  fn: () =>
    withTmpfs(64, async (dir) => {
      await fillUp(dir);
      const state = `${dir}/sqm-autorate`; // not there yet: made on the full file system
      const lock = await acquireInstanceLock(state, { interfaces });
      try {
        assertEquals(lock.paths.length, 2);
        assertEquals(lock.pidNotWritten.length, 2, "both PIDs could not be written");
        assert(lock.pidNotWritten[0].includes("No space left"), lock.pidNotWritten[0]);
        const e = await assertRejects(
          () => acquireInstanceLock(state, { interfaces: ["wan"], pid: 4242 }),
          InstanceLockedError,
        );
        assertEquals(e.holderPid, null);
      } finally {
        await lock.release();
      }
      await Deno.remove(`${dir}/filler`);
      const again = await acquireInstanceLock(state, { interfaces });
      assertEquals(again.pidNotWritten, []);
      assertEquals(await Deno.readTextFile(again.paths[0]), `${Deno.pid}\n`);
      await again.release();
    }),
});

Deno.test({
  ...needs(
    "tmpfs: on a read-only state dir taking the locks fails as an error, not as locked",
    reason,
  ),
  fn: () =>
    withTmpfs(64, async (dir) => {
      await remount(dir, true);
      try {
        const e = await assertRejects(() => acquireInstanceLock(dir, { interfaces }), Error);
        assert(!(e instanceof InstanceLockedError), String(e));
      } finally {
        await remount(dir, false);
      }
    }),
});

Deno.test({
  ...needs(
    "ext4: a state dir the kernel turns read-only under held locks: release frees every lock",
    await ext4SkipReason(),
  ),
  fn: () =>
    withExt4(1024, async (dir) => {
      const lock = await acquireInstanceLock(dir, { interfaces });
      await ext4Error(dir);
      const e = await assertRejects(() => lock.release(), Error);
      assert(String(e).includes("Read-only"), String(e));
      for (const path of lock.paths) {
        // flock is per open file: a second open of the file locks only once ours is gone.
        const f = await Deno.open(path, { read: true });
        try {
          assert(await f.tryLock(true), `${path} is free`);
        } finally {
          f.close();
        }
      }
      const again = await assertRejects(() => acquireInstanceLock(dir, { interfaces }), Error);
      assert(!(again instanceof InstanceLockedError), String(again));
    }),
});
