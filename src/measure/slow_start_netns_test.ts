/**
 * A pinger whose processes start late (a loaded router) with the real fping and iputils ping
 * inside a private network namespace (root only): each child is started through a script that
 * waits 1.2 s, longer than the loop's window of 2 ticks, before it runs the tool. Given the same set
 * at every tick, as the selector publishes a cycle's candidates again while too few are fresh
 * (src/reflectors/selector.ts, `#publishAgain`), the pinger keeps a child that is still starting
 * until its first reply: counted from its spawn, its silence restarted it before it ever replied
 * (docs/operation.md, "Its helper processes").
 */
import { assert } from "../util/assert.ts";
import { systemClock } from "../util/clock.ts";
import { choosePinger } from "./backends.ts";
import { ProcessPinger } from "./pinger.ts";
import type { PingerTool, PingReply } from "./types.ts";
import {
  addLoopbackHosts,
  needs,
  netnsSkipReason,
  pollUntil,
  withNetns,
} from "../util/netns_testing.ts";

/** Answer on the namespace's lo. */
const HOSTS = ["10.213.0.1", "10.213.0.2", "10.213.0.3"];
const TICK_S = 0.5;
/** How late each child starts, s: longer than `SILENT_RESTART_TICKS` ticks. */
const START_DELAY_S = 1.2;

const reason = await netnsSkipReason();

for (const tool of ["fping", "ping"] as const) {
  Deno.test(
    needs(
      `netns: ${tool} started ${START_DELAY_S} s late, given the same set at every tick, is kept until its first reply`,
      reason,
    ),
    () =>
      withNetns("sqma-slowstart", async (ns) => {
        await addLoopbackHosts(ns, HOSTS);
        const dir = await Deno.makeTempDir({ prefix: "sqma-slowstart-" });
        const got: PingReply[] = [];
        const p = await slowPinger(tool, { ns, dir, got });
        try {
          await p.start(HOSTS.slice(0, 2));
          await pollUntil(() => got.length, (n) => n > 0, { ms: 10_000, what: "a first reply" });
          assert(p.startDelayS >= START_DELAY_S * 0.9, `start delay ${p.startDelayS} s`);
          // A new set (a cycle's candidates: fping restarts its child, ping starts one more), then
          // the same set at every tick while its replies are awaited.
          const startsBefore = p.starts;
          const newest = HOSTS[2];
          const t0 = systemClock.monotonicS();
          await p.setReflectors(HOSTS);
          const { seconds } = await pollUntil(
            async () => {
              await p.setReflectors(HOSTS);
              return got.filter((r) => r.reflector === newest && r.receiveTimeS > t0).length;
            },
            (n) => n > 0,
            { ms: 10_000, what: `a reply from ${newest}`, everyMs: TICK_S * 1000 },
          );
          assert(seconds < 3, `first reply after ${seconds} s`);
          // One start for the new set: none again while it was starting.
          const starts = p.starts - startsBefore;
          assert(starts === 1, `${starts} starts since the new set`);
        } finally {
          await p.stop();
          await Deno.remove(dir, { recursive: true });
        }
      }),
  );
}

/** A `tool` pinger in `ns` whose children start `START_DELAY_S` late (a script in `dir`). */
async function slowPinger(
  tool: PingerTool,
  o: { ns: string; dir: string; got: PingReply[] },
): Promise<ProcessPinger> {
  const prefix = ["ip", "netns", "exec", o.ns];
  const choice = await choosePinger(tool, { commandPrefix: prefix });
  const script = `${o.dir}/${tool}`;
  // The wait's output elsewhere: a kill of the script while it waits ends the child's pipes.
  await Deno.writeTextFile(
    script,
    `#!/bin/sh\nsleep ${START_DELAY_S} >/dev/null 2>&1\nexec ${choice.binary} "$@"\n`,
    { mode: 0o755 },
  );
  return new ProcessPinger({
    tool,
    binary: script,
    fping: choice.fping,
    mode: "echo",
    tickS: TICK_S,
    clock: systemClock,
    commandPrefix: prefix,
    onReply: (r) => o.got.push(r),
  });
}
