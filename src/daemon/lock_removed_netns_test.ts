/**
 * The state directory removed under the real daemon (`main.ts run` under `-P=daemon`, real `tc`
 * and fping in a throw-away network namespace): its lock files are back within a tick, and a second
 * daemon started then on the same interfaces is refused with 75 (docs/operation.md, "One daemon
 * per interface"). Before, they came back at the next look of every 30 s and a second daemon
 * started in between shaped the interfaces too.
 */
import { assert, assertEquals } from "../util/assert.ts";
import { ExitCode } from "../util/exit_codes.ts";
import {
  addTbfVethPair,
  collectStderr,
  daemonRuntimeDir,
  daemonUci,
  needs,
  netnsSkipReason,
  occurrences,
  pollUntil,
  spawnDaemonInNetns,
  withNetns,
  withSpawnedDaemon,
} from "../util/netns_testing.ts";
import { lockPath } from "./instance_lock.ts";

const reason = await netnsSkipReason();

Deno.test({
  ...needs(
    "daemon under -P=daemon in a netns: rm -rf of state_dir: the locks are back within a tick, a second daemon is refused",
    reason,
  ),
  fn: () =>
    withNetns("sqma-lockrm", async (ns) => {
      await addTbfVethPair(ns, "vldl", "vlul");
      const dir = await daemonRuntimeDir("lockrm-");
      const state = `${dir}/state`;
      const config = `${dir}/sqm-autorate`;
      await Deno.writeTextFile(
        config,
        daemonUci(dir, { ul: "vlul", dl: "vldl", dlBaseKbits: 50000, stateDir: state }),
      );
      const pidIn = (ifname: string) =>
        Deno.readTextFile(lockPath(state, ifname)).then((t) => t.trim(), () => "");
      try {
        let second: { code: number; log: string } | undefined;
        const { code, log } = await withSpawnedDaemon(
          ns,
          ["run", "--config", config],
          async (d) => {
            await pollUntil(d.log, (t) => t.includes("control started"), {
              ms: 30_000,
              what: "control started",
            });
            const pid = await pidIn("vldl");
            assert(/^\d+$/.test(pid), `the daemon's PID in its lock file: "${pid}"`);
            await Deno.remove(state, { recursive: true });
            // A tick is 0.5 s (min_change_interval); the look every 30 s took up to 30 s.
            await pollUntil(() => pidIn("vldl"), (p) => p === pid, {
              ms: 3000,
              everyMs: 20,
              what: "the lock file of vldl back with the daemon's PID",
            });
            const child = spawnDaemonInNetns(ns, ["run", "--config", config]);
            const stderr = collectStderr(child);
            const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
            const status = await child.status;
            clearTimeout(timer);
            await stderr.done;
            second = { code: status.code, log: stderr.log() };
          },
        );
        assertEquals(code, ExitCode.OK, log);
        assertEquals(second?.code, ExitCode.LOCKED, second?.log);
        assert(second!.log.includes("already controls interface"), second!.log);
        assertEquals(occurrences(log, "was removed or replaced: made it again"), 2, log);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }),
});

Deno.test({
  ...needs(
    "daemon under -P=daemon in a netns: rm -rf of state_dir during start-up (an interface " +
      "awaited): the locks are back within a tick, a second daemon is refused",
    reason,
  ),
  fn: () =>
    withNetns("sqma-lockst", async (ns) => {
      // Only the download interface: the start-up waits for the upload one (12 × 5 s).
      await addTbfVethPair(ns, "vsdl", "vsdlpeer");
      const dir = await daemonRuntimeDir("lockst-");
      const state = `${dir}/state`;
      const config = `${dir}/sqm-autorate`;
      await Deno.writeTextFile(
        config,
        daemonUci(dir, { ul: "vsul", dl: "vsdl", dlBaseKbits: 50000, stateDir: state }),
      );
      const pidIn = (ifname: string) =>
        Deno.readTextFile(lockPath(state, ifname)).then((t) => t.trim(), () => "");
      try {
        let second: { code: number | "still running"; log: string } | undefined;
        const { code, log } = await withSpawnedDaemon(
          ns,
          ["run", "--config", config],
          async (d) => {
            await pollUntil(d.log, (t) => t.includes("waiting for interfaces"), {
              ms: 30_000,
              what: "waiting for interfaces",
            });
            const pid = await pidIn("vsdl");
            assert(/^\d+$/.test(pid), `the daemon's PID in its lock file: "${pid}"`);
            await Deno.remove(state, { recursive: true });
            // Before, nothing looked at them until control started (never, here).
            await pollUntil(() => pidIn("vsdl"), (p) => p === pid, {
              ms: 3000,
              everyMs: 20,
              what: "the lock file of vsdl back with the daemon's PID",
            });
            const child = spawnDaemonInNetns(ns, ["run", "--config", config]);
            const stderr = collectStderr(child);
            // Refused at once, or it waits for the interface as the first does.
            let exited: number | undefined;
            void child.status.then((s) => exited = s.code);
            await pollUntil(() => Promise.resolve(exited), (c) => c !== undefined, {
              ms: 5000,
              what: "the second daemon's exit",
            }).catch(() => {});
            if (exited === undefined) child.kill("SIGKILL");
            await child.status;
            await stderr.done;
            second = { code: exited ?? "still running", log: stderr.log() };
          },
        );
        assertEquals(code, ExitCode.OK, log);
        assertEquals(second?.code, ExitCode.LOCKED, second?.log);
        assert(second!.log.includes("already controls interface"), second!.log);
        assertEquals(occurrences(log, "was removed or replaced: made it again"), 2, log);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }),
});
