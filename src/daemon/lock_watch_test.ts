import { assertEquals } from "../util/assert.ts";
import type { Logger } from "../log/logger.ts";
import type { InstanceLock, LockRenewal } from "./instance_lock.ts";
import { LockWatch } from "./lock_watch.ts";

/** A logger keeping `LEVEL message` with the `{name}` placeholders filled in. */
function recorder(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (message: string, props: Record<string, unknown> = {}) =>
    lines.push(`${level} ${message.replace(/\{(\w+)\}/g, (_, k) => String(props[k]))}`);
  const logger = { debug: at("DEBUG"), info: at("INFO"), warn: at("WARN"), error: at("ERROR") };
  return { logger: logger as unknown as Logger, lines };
}

Deno.test("lock watch: every 30 s of ticks; a lasting problem logged once, a relock at WARN", () => {
  const answers: LockRenewal[][] = [
    [{ path: "/s/wan.lock", outcome: "taken", holderPid: 42 }],
    [{ path: "/s/wan.lock", outcome: "taken", holderPid: 42 }],
    [{ path: "/s/wan.lock", outcome: "relocked" }],
    [],
    [{ path: "/s/wan.lock", outcome: "failed", error: "Read-only file system" }],
  ];
  let asked = 0;
  const lock = {
    renew: () => answers[asked++] ?? [],
  } as unknown as InstanceLock;
  const { logger, lines } = recorder();
  const watch = new LockWatch(lock, { log: logger });
  for (let t = 0; t <= 160; t += 0.5) watch.tick(t);
  assertEquals(asked, 5, "at 30, 60, 90, 120, 150 s");
  assertEquals(lines.map((l) => l.split(" ")[0]), ["ERROR", "DEBUG", "WARN", "ERROR"]);
  assertEquals(
    lines[0],
    "ERROR the lock file /s/wan.lock is not in place: another sqm-autorate (PID 42) locked it " +
      "after it was removed: two daemons may be shaping this interface; stop one",
  );
});
