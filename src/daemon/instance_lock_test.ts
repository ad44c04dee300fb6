import { assert, assertEquals, assertRejects, assertThrows } from "../util/assert.ts";
import { ExitCode } from "../util/exit_codes.ts";
import {
  acquireInstanceLock,
  InstanceLockedError,
  LOCK_CLAIM_S,
  lockPath,
} from "./instance_lock.ts";

const HOLDER = new URL("./testdata/hold_lock.ts", import.meta.url).pathname;
const MAIN = new URL("../../main.ts", import.meta.url).pathname;

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "sqma-lock-" });
  try {
    await fn(`${dir}/state`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Starts a process holding the lock of `ifname`; resolves once it holds it. */
async function holder(dir: string, ifname: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-P=dev", HOLDER, dir, ifname],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  assertEquals(new TextDecoder().decode(value).trim(), "locked");
  reader.releaseLock();
  return child;
}

Deno.test("instance lock: a second holder is refused with the first one's PID; release frees it", async () => {
  await withTempDir(async (dir) => {
    const a = await acquireInstanceLock(dir, { interfaces: ["wan", "ifb4wan"] });
    assertEquals(a.paths, [lockPath(dir, "ifb4wan"), lockPath(dir, "wan")]);
    assertEquals(await Deno.readTextFile(lockPath(dir, "wan")), `${Deno.pid}\n`);
    // Any overlap counts: a daemon on another pair that shares `wan` would fight too.
    const e = await assertRejects(
      () => acquireInstanceLock(dir, { interfaces: ["wan", "ifb4lan"], pid: 4242 }),
      InstanceLockedError,
    );
    assertEquals([e.ifname, e.holderPid], ["wan", Deno.pid]);
    assert(e.message.includes(`PID ${Deno.pid}`), e.message);
    // The refused attempt released what it had taken (ifb4lan comes first in order).
    await (await acquireInstanceLock(dir, { interfaces: ["ifb4lan"] })).release();
    await a.release();
    const b = await acquireInstanceLock(dir, { interfaces: ["wan"] });
    assertEquals(b.takenOverFrom, []);
    await b.release();
  });
});

Deno.test("instance lock: the lock of a killed holder (stale PID) is taken over", async () => {
  await withTempDir(async (dir) => {
    const child = await holder(dir, "wan");
    const e = await assertRejects(
      () => acquireInstanceLock(dir, { interfaces: ["wan"] }),
      InstanceLockedError,
    );
    assertEquals(e.holderPid, child.pid);
    child.kill("SIGKILL");
    await child.status;
    // The PID is still in the file, but the kernel dropped the dead process's lock.
    assertEquals(await Deno.readTextFile(lockPath(dir, "wan")), `${child.pid}\n`);
    const lock = await acquireInstanceLock(dir, { interfaces: ["wan"] });
    assertEquals(lock.takenOverFrom, [child.pid]);
    assertEquals(await Deno.readTextFile(lockPath(dir, "wan")), `${Deno.pid}\n`);
    await lock.release();
  });
});

Deno.test("instance lock: renew locks a removed lock file again, or names who took it", async () => {
  await withTempDir(async (dir) => {
    const a = await acquireInstanceLock(dir, { interfaces: ["wan", "ifb4wan"] });
    assertEquals(a.renew(), [], "both in place: nothing to do");
    await Deno.remove(dir, { recursive: true });
    assertEquals(a.renew(), [
      { path: lockPath(dir, "ifb4wan"), outcome: "relocked", pidNotWritten: undefined },
      { path: lockPath(dir, "wan"), outcome: "relocked", pidNotWritten: undefined },
    ]);
    assertEquals(await Deno.readTextFile(lockPath(dir, "wan")), `${Deno.pid}\n`);
    await assertRejects(
      () => acquireInstanceLock(dir, { interfaces: ["wan"], pid: 4242 }),
      InstanceLockedError,
    );
    // Removed again, and another daemon makes and locks a new file before the next look: taken
    // back (a file made there within LOCK_CLAIM_S), and that one's confirm() gives way.
    await Deno.remove(lockPath(dir, "wan"));
    const b = await acquireInstanceLock(dir, { interfaces: ["wan"], pid: 4242 });
    assertEquals(b.made, true);
    b.confirm(); // nobody took it back yet
    assertEquals(a.renew(), [
      { path: lockPath(dir, "wan"), outcome: "reclaimed", holderPid: 4242 },
    ]);
    assertEquals(await Deno.readTextFile(lockPath(dir, "wan")), `${Deno.pid}\n`);
    const lost = assertThrows(() => b.confirm(), InstanceLockedError);
    assertEquals([lost.ifname, lost.holderPid], ["wan", Deno.pid]);
    assertEquals(a.renew(), [], "ours in place again");
    await b.release();
    // Once more within 30 s: not taken back again (two daemons never take turns at it).
    await Deno.remove(lockPath(dir, "wan"));
    const c = await acquireInstanceLock(dir, { interfaces: ["wan"], pid: 4343 });
    assertEquals(a.renew(), [
      { path: lockPath(dir, "wan"), outcome: "taken", holderPid: 4343 },
    ]);
    c.confirm();
    await c.release();
    await a.release();
  });
});

Deno.test("instance lock: a lock file made there longer ago than the claim is not taken back", async () => {
  await withTempDir(async (dir) => {
    const a = await acquireInstanceLock(dir, { interfaces: ["wan"] });
    await Deno.remove(lockPath(dir, "wan"));
    const b = await acquireInstanceLock(dir, { interfaces: ["wan"], pid: 4242 });
    const past = new Date(Date.now() - LOCK_CLAIM_S * 1000);
    await Deno.utime(lockPath(dir, "wan"), past, past);
    assertEquals(a.renew(), [{ path: lockPath(dir, "wan"), outcome: "taken", holderPid: 4242 }]);
    b.confirm();
    await b.release();
    await a.release();
  });
});

Deno.test("instance lock: a lock file from before the wall clock stepped back is not taken back", async () => {
  await withTempDir(async (dir) => {
    const a = await acquireInstanceLock(dir, { interfaces: ["wan"] });
    await Deno.remove(lockPath(dir, "wan"));
    const b = await acquireInstanceLock(dir, { interfaces: ["wan"], pid: 4242 });
    // Made an hour ago by the clock then in force; NTP has since stepped it back by two hours.
    const ahead = new Date(Date.now() + 3600_000);
    await Deno.utime(lockPath(dir, "wan"), ahead, ahead);
    assertEquals(a.renew(), [{ path: lockPath(dir, "wan"), outcome: "taken", holderPid: 4242 }]);
    b.confirm();
    await b.release();
    await a.release();
  });
});

Deno.test("instance lock: the 30 s between take-backs are counted on the monotonic clock", async () => {
  await withTempDir(async (dir) => {
    let monoS = 0;
    let wallMs = Date.now() + 365 * 86400_000; // a year ahead: a router's clock before NTP
    const clock = { monotonicS: () => monoS, wallMs: () => wallMs };
    const a = await acquireInstanceLock(dir, { interfaces: ["wan"], clock });
    await Deno.remove(lockPath(dir, "wan"));
    const b = await acquireInstanceLock(dir, { interfaces: ["wan"], pid: 4242 });
    const made = new Date(wallMs);
    await Deno.utime(lockPath(dir, "wan"), made, made);
    assertEquals(a.renew(), [{
      path: lockPath(dir, "wan"),
      outcome: "reclaimed",
      holderPid: 4242,
    }]);
    await b.release();
    // NTP steps the wall clock back a year; 31 s pass. A newcomer's file is taken back again.
    monoS = 31;
    await Deno.remove(lockPath(dir, "wan"));
    const c = await acquireInstanceLock(dir, { interfaces: ["wan"], pid: 4343 });
    // Read after the file is made, as a daemon's clock is: read before, a file's time (the
    // kernel's coarse clock) could lie a tick past it, i.e. ahead of the clock (CI saw 'taken').
    wallMs = Date.now();
    assertEquals(a.renew(), [{
      path: lockPath(dir, "wan"),
      outcome: "reclaimed",
      holderPid: 4343,
    }]);
    await c.release();
    await a.release();
  });
});

Deno.test("run: a second daemon on the same interfaces exits 75 naming the first one's PID", async () => {
  await withTempDir(async (dir) => {
    const args = (extra: string[]) => [
      "run",
      "-P=dev",
      MAIN,
      "run",
      ...["--upload-interface", "sqma-nx-ul", "--download-interface", "sqma-nx-dl"],
      ...["--upload-base-kbits", "1000", "--download-base-kbits", "1000"],
      ...["--state-dir", dir, "--no-statistics", ...extra],
    ];
    // The first waits for its (missing) interfaces, holding the locks meanwhile.
    const first = new Deno.Command(Deno.execPath(), {
      args: args([]),
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      for (let i = 0; i < 300; i++) {
        const text = await Deno.readTextFile(lockPath(dir, "sqma-nx-ul")).catch(() => "");
        if (text.trim() === String(first.pid)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const second = await new Deno.Command(Deno.execPath(), {
        args: args([]),
        stdout: "piped",
        stderr: "piped",
      }).output();
      const err = new TextDecoder().decode(second.stderr);
      assertEquals(second.code, ExitCode.LOCKED, err);
      assert(err.includes(`PID ${first.pid}`), err);
    } finally {
      first.kill("SIGTERM");
      await first.status;
    }
  });
});
