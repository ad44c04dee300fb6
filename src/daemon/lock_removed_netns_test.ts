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
  rootQdisc,
  sampledWhile,
  spawnDaemonInNetns,
  untilControlStarted,
  withNetns,
  withSpawnedDaemon,
} from "../util/netns_testing.ts";
import { lockPath } from "./instance_lock.ts";

const reason = await netnsSkipReason();

/**
 * A second daemon on `config` in `ns`, while `during` runs (e.g. sampling the rates): its exit
 * code, or "still running" after `ms` (then killed), and its stderr.
 */
async function secondDaemon(
  ns: string,
  config: string,
  o: { ms: number; during?: (exit: () => Promise<void>) => Promise<void> },
): Promise<{ code: number | "still running"; log: string }> {
  const child = spawnDaemonInNetns(ns, ["run", "--config", config]);
  const stderr = collectStderr(child);
  let exited: number | undefined;
  void child.status.then((s) => exited = s.code);
  const exit = () =>
    pollUntil(() => Promise.resolve(exited), (c) => c !== undefined, {
      ms: o.ms,
      what: "the second daemon's exit",
    }).then(() => {}, () => {});
  await (o.during ?? ((e) => e()))(exit);
  if (exited === undefined) child.kill("SIGKILL");
  await child.status;
  await stderr.done;
  return { code: exited ?? "still running", log: stderr.log() };
}

/**
 * A runtime directory for a daemon on `dl`/`ul` (download base 50 Mbit/s) with its UCI file and
 * `state_dir` (`DIR/state`), and a reader of the PID in an interface's lock file there ("" when
 * there is none).
 */
async function lockSetup(
  prefix: string,
  o: { ul: string; dl: string; tail?: string },
): Promise<
  { dir: string; state: string; config: string; pidIn: (ifname: string) => Promise<string> }
> {
  const dir = await daemonRuntimeDir(prefix);
  const state = `${dir}/state`;
  const config = `${dir}/sqm-autorate`;
  await Deno.writeTextFile(
    config,
    daemonUci(dir, { ...o, dlBaseKbits: 50000, stateDir: state }),
  );
  const pidIn = (ifname: string) =>
    Deno.readTextFile(lockPath(state, ifname)).then((t) => t.trim(), () => "");
  return { dir, state, config, pidIn };
}

Deno.test({
  ...needs(
    "daemon under -P=daemon in a netns: rm -rf of state_dir: the locks are back within a tick, a second daemon is refused",
    reason,
  ),
  fn: () =>
    withNetns("sqma-lockrm", async (ns) => {
      await addTbfVethPair(ns, "vldl", "vlul");
      const { dir, state, config, pidIn } = await lockSetup("lockrm-", { ul: "vlul", dl: "vldl" });
      try {
        let second: { code: number | "still running"; log: string } | undefined;
        const { code, log } = await withSpawnedDaemon(
          ns,
          ["run", "--config", config],
          async (d) => {
            await untilControlStarted(d.log);
            const pid = await pidIn("vldl");
            assert(/^\d+$/.test(pid), `the daemon's PID in its lock file: "${pid}"`);
            await Deno.remove(state, { recursive: true });
            // A tick is 0.5 s (min_change_interval); the look every 30 s took up to 30 s.
            await pollUntil(() => pidIn("vldl"), (p) => p === pid, {
              ms: 3000,
              everyMs: 20,
              what: "the lock file of vldl back with the daemon's PID",
            });
            second = await secondDaemon(ns, config, { ms: 30_000 });
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
      const { dir, state, config, pidIn } = await lockSetup("lockst-", { ul: "vsul", dl: "vsdl" });
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
            // Refused at once, or it waits for the interface as the first does.
            second = await secondDaemon(ns, config, { ms: 5000 });
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
    "daemon under -P=daemon in a netns: a second daemon started at once after rm -rf of state_dir " +
      "gives way before it shapes",
    reason,
  ),
  fn: () =>
    withNetns("sqma-lockrace", async (ns) => {
      await addTbfVethPair(ns, "vrdl", "vrul");
      const { dir, state, config } = await lockSetup("lockrace-", { ul: "vrul", dl: "vrdl" });
      const rates = async () =>
        `${(await rootQdisc(ns, "vrdl")).rateKbit}/${(await rootQdisc(ns, "vrul")).rateKbit}`;
      try {
        let second: { code: number | "still running"; log: string } | undefined;
        let seen: string[] = [];
        const { code, log } = await withSpawnedDaemon(
          ns,
          ["run", "--config", config],
          async (d) => {
            await untilControlStarted(d.log);
            // It takes its lock about 0.2 s after it starts: within the first one's tick.
            await Deno.remove(state, { recursive: true });
            second = await secondDaemon(ns, config, {
              ms: 8000,
              during: async (exit) => void (seen = await sampledWhile(rates, exit)),
            });
          },
        );
        assertEquals(code, ExitCode.OK, log);
        assertEquals(second?.code, ExitCode.LOCKED, second?.log);
        assert(second!.log.includes("already controls interface"), second!.log);
        // The first one's rates (60 % of base) throughout: the second set none.
        assertEquals(seen, ["30000/6000"], second?.log);
        // Each file taken back, or made again when the first looked before the second made it.
        const back = occurrences(log, "took it back");
        assert(back >= 1, log);
        assertEquals(back + occurrences(log, "was removed or replaced: made it again"), 2, log);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }),
});

Deno.test({
  ...needs(
    "daemon under -P=daemon in a netns: with min_change_interval 2 s, rm -rf of state_dir: the " +
      "locks are back within LOCK_LOOK_MAX_S, not a tick of 2 s",
    reason,
  ),
  fn: () =>
    withNetns("sqma-lockslow", async (ns) => {
      await addTbfVethPair(ns, "vwdl", "vwul");
      const { dir, state, config, pidIn } = await lockSetup("lockslow-", {
        ul: "vwul",
        dl: "vwdl",
        tail: "\toption min_change_interval '2'",
      });
      try {
        const backS: number[] = [];
        const { code, log } = await withSpawnedDaemon(
          ns,
          ["run", "--config", config],
          async (d) => {
            await untilControlStarted(d.log);
            const pid = await pidIn("vwdl");
            // Four removals 0.7 s apart land at different points of the 2 s ticks: with the look
            // after the ticks only, most were back only after a second (a newcomer let in).
            for (let i = 0; i < 4; i++) {
              await new Promise((r) => setTimeout(r, 700));
              await Deno.remove(state, { recursive: true });
              const { seconds } = await pollUntil(() => pidIn("vwdl"), (p) => p === pid, {
                ms: 5000,
                everyMs: 20,
                what: "the lock file of vwdl back with the daemon's PID",
              });
              backS.push(seconds);
            }
          },
        );
        assertEquals(code, ExitCode.OK, log);
        assert(backS.every((s) => s < 0.9), `back after ${backS.join(", ")} s`);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }),
});
