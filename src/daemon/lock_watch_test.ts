import { assert, assertEquals, assertRejects } from "../util/assert.ts";
import type { Logger } from "../log/logger.ts";
import {
  acquireInstanceLock,
  type InstanceLock,
  InstanceLockedError,
  type LockRenewal,
} from "./instance_lock.ts";
import { LOCK_LOOK_MAX_S, LockWatch } from "./lock_watch.ts";
import type { TimeoutTimers } from "../util/rearmable_timeout.ts";

/** A logger keeping `LEVEL message` with the `{name}` placeholders filled in. */
function recorder(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (message: string, props: Record<string, unknown> = {}) =>
    lines.push(`${level} ${message.replace(/\{(\w+)\}/g, (_, k) => String(props[k]))}`);
  const logger = { debug: at("DEBUG"), info: at("INFO"), warn: at("WARN"), error: at("ERROR") };
  return { logger: logger as unknown as Logger, lines };
}

Deno.test("lock watch: a look every tick; a lasting problem tried again every 30 s and logged once", () => {
  const taken: LockRenewal = { path: "/s/wan.lock", outcome: "taken", holderPid: 42 };
  // Looks at 0.5 s (in place), 1 s (taken), 31 s (still taken), 61 s (relocked), then every tick.
  const answers: Record<number, LockRenewal[]> = {
    1: [taken],
    31: [taken],
    61: [{ path: "/s/wan.lock", outcome: "relocked" }],
    70: [{ path: "/s/wan.lock", outcome: "failed", error: "Read-only file system" }],
  };
  const looks: number[] = [];
  let now = 0;
  const lock = {
    renew: () => (looks.push(now), answers[now] ?? []),
  } as unknown as InstanceLock;
  const { logger, lines } = recorder();
  const watch = new LockWatch(lock, { log: logger });
  for (now = 0.5; now <= 72; now += 0.5) watch.tick(now);
  const expected = [0.5, 1, 31, 61];
  for (let t = 61.5; t <= 70; t += 0.5) expected.push(t);
  assertEquals(looks, expected);
  assertEquals(lines.map((l) => l.split(" ")[0]), ["ERROR", "DEBUG", "WARN", "ERROR"]);
  assertEquals(
    lines[0],
    "ERROR the lock file /s/wan.lock is not in place: another sqm-autorate (PID 42) locked it " +
      "after it was removed: two daemons may be shaping this interface; stop one",
  );
});

Deno.test("lock watch: a look every everyS, not every tick; every tick when ticks are that far apart", () => {
  const looksAt = (tickS: number, everyS: number) => {
    const looks: number[] = [];
    let now = 0;
    const lock = { renew: () => (looks.push(now), []) } as unknown as InstanceLock;
    const watch = new LockWatch(lock, { log: recorder().logger, everyS });
    // Ticks end a few ms off their schedule (±3 ms here), as the daemon's do.
    for (let k = 1; k <= 20; k++) {
      now = k * tickS + ((k * 5) % 7 - 3) / 1000;
      watch.tick(now);
    }
    return looks.length;
  };
  // capacity under load: a tick every 0.1 s, a look every 0.5 s (min_change_interval).
  assertEquals(looksAt(0.1, 0.5), 4);
  // EWMA, or capacity while idle: a tick every 0.5 s, a look at every tick despite the jitter.
  assertEquals(looksAt(0.5, 0.5), 20);
  // Ticks every 0.2 s against a look every 0.5 s: every third tick (never more than 0.6 s apart).
  assertEquals(looksAt(0.2, 0.5), 7);
});

Deno.test("lock watch: with a min_change_interval above LOCK_LOOK_MAX_S, a timer of its own looks between the ticks; none at the default", () => {
  const run = (everyS: number) => {
    const looks: number[] = [];
    let now = 0;
    const lock = { renew: () => (looks.push(now), []) } as unknown as InstanceLock;
    let armed: { fn: () => void; ms: number } | undefined;
    let arms = 0;
    const timers: TimeoutTimers = {
      setTimeout: (fn, ms) => (arms++, armed = { fn, ms }),
      clearTimeout: () => armed = undefined,
    };
    const watch = new LockWatch(lock, { log: recorder().logger, everyS, now: () => now, timers });
    // Ticks every everyS (EWMA's), the timer fired when it is due in between.
    let nextTickS = everyS;
    while (now < 6) {
      const fireS = armed === undefined ? Infinity : now + armed.ms / 1000;
      if (fireS < nextTickS - 1e-9) {
        now = fireS;
        armed!.fn();
      } else {
        now = nextTickS;
        nextTickS += everyS;
        watch.tick(now);
      }
    }
    watch.close();
    assertEquals(armed, undefined, "close() stops it");
    const gaps = looks.slice(1).map((t, i) => t - looks[i]);
    return { arms, longestGapS: Math.max(looks[0], ...gaps) };
  };
  // min_change_interval 2 s: a look at least every LOCK_LOOK_MAX_S (ticks every 2 s left 2 s).
  const slow = run(2);
  assert(slow.longestGapS <= LOCK_LOOK_MAX_S + 1e-9, `${slow.longestGapS}`);
  assert(LOCK_LOOK_MAX_S < 1, "within the take-back's second (docs/operation.md)");
  // The default 0.5 s: the ticks look, no timer wakes the daemon.
  assertEquals(run(0.5), { arms: 0, longestGapS: 0.5 });
});

Deno.test("lock watch: after rm -rf of the lock directory, a second holder is refused from the next tick on", async () => {
  const base = await Deno.makeTempDir({ prefix: "sqma-lockwatch-" });
  const dir = `${base}/state`;
  const lock = await acquireInstanceLock(dir, { interfaces: ["wan", "ifb4wan"] });
  const { logger, lines } = recorder();
  const watch = new LockWatch(lock, { log: logger });
  try {
    watch.tick(0.5);
    // Twice: the second removal is of the directory the first look made again.
    for (const t of [1, 1.5]) {
      await Deno.remove(dir, { recursive: true });
      watch.tick(t); // one tick later (a look every 30 s left a second daemon 30 s to get in)
      const e = await assertRejects(
        () => acquireInstanceLock(dir, { interfaces: ["wan"], pid: 4242 }),
        InstanceLockedError,
      );
      assertEquals(e.holderPid, Deno.pid);
    }
    const relocked = lines.filter((l) => l.includes("was removed or replaced"));
    assertEquals(relocked.length, 4, lines.join("\n"));
    assert(relocked.every((l) => l.startsWith("WARN")), lines.join("\n"));
  } finally {
    await lock.release();
    await Deno.remove(base, { recursive: true });
  }
});
