/**
 * Remote mode against a router as stock OpenWrt has it (ssh_netns_fixture.ts,
 * `withDropbearRouterNetns`): dropbear as the SSH server, BusyBox's ash as the login shell and
 * BusyBox's applets as its commands (`ip` without `-j`), iproute2's tc. Every other remote test
 * runs OpenSSH's sshd with bash or dash (docs/remote.md, "Against dropbear and BusyBox"). The
 * start-up checks, the counter loop in ash, the `tc -batch` session, a dropbear killed and
 * restarted, the key refused, and SIGTERM's exit rate must behave as against sshd.
 */
import { assert, assertEquals } from "../util/assert.ts";
import { ExitCode } from "../util/exit_codes.ts";
import type { LogRecord } from "../log/logger.ts";
import { formatRecord, stageLogger } from "../log/mod.ts";
import { must, needs, netnsSkipReason } from "../util/netns_testing.ts";
import {
  assertRecovered,
  flippingDaemon,
  matching,
  pause,
  until,
  withLogs,
} from "./hung_testing.ts";
import { checkRemoteSetup, createRemoteAdapters } from "../remote/mod.ts";
import { blockingSleep } from "../util/blocking_sleep.ts";
import { dropbearRouterSkipReason, withDropbearRouterNetns } from "./ssh_netns_fixture.ts";

const reason = (await netnsSkipReason()) ?? (await dropbearRouterSkipReason());

const text = (records: LogRecord[]) => records.map(formatRecord).join("");

const COUNTER_FAULT = /counters on .* unreadable/;

/** The router's tc and shell processes (the sessions' commands). */
const tcs = (ps: { comm: string }[]) => ps.filter((p) => p.comm === "tc" || p.comm === "sh").length;

Deno.test({
  ...needs(
    "remote (netns, dropbear + BusyBox): start-up checks, rates and counters through ash, " +
      "dropbear killed and restarted, the key refused, SIGTERM's exit rate",
    reason,
  ),
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withLogs((records) =>
      withDropbearRouterNetns("sqma-rdbr", {}, async (r) => {
        const options = { sshPath: r.sshPath, logger: stageLogger("remote") };
        // check-config's look: tc, both TBFs, the privilege to change them, the counters.
        assertEquals(await checkRemoteSetup(r.d.settings, options), []);
        // A fresh tc -batch session every 100 changes (5–10 s): each old one is ended by the end
        // of its input, as after 500 changes (docs/footprint.md).
        const adapters = createRemoteAdapters(r.d.settings, { ...options, changesPerProcess: 100 });
        // BusyBox's ip has no -j: the kind is unknown and the name decides (docs/remote.md).
        assertEquals(await adapters.linkKind("vdl"), undefined);
        const daemon = flippingDaemon(r.d, { ...adapters, tickSleep: blockingSleep() });
        try {
          await until(async () => (await r.d.tbf("vdl")).rateKbit >= 20000, "control", 30_000);
          // The counter loop runs in BusyBox's ash, and its readings reach the loop.
          const shells = (await r.routerProcesses()).filter((p) => p.comm === "sh");
          assertEquals(shells.length, 1, JSON.stringify(await r.routerProcesses()));
          // Its program is the router's BusyBox (by device and inode: the path depends on the
          // namespace; Deno reads /proc only with --allow-all, stat can).
          const ident = async (path: string) =>
            (await must("stat", ["-L", "-c", "%d %i", path])).trim();
          assertEquals(
            await ident(`/proc/${shells[0].pid}/exe`),
            await ident(`${r.keysDir}/usrbin/busybox`),
          );
          await until(() => daemon.ticks.some((t) => t.readings !== undefined), "a reading");

          // dropbear killed (listener and both sessions), then back.
          // The listener and the sessions (two, or one while the batch session is being renewed).
          assert((await r.killSshd()) >= 2, "the listener and the sessions");
          await until(() => matching(records, COUNTER_FAULT).length > 0, "the outage's WARN");
          await pause(3000);
          await r.startSshd();
          await assertRecovered(r.d, daemon);
          assertEquals(matching(records, COUNTER_FAULT).length, 1, text(records));

          // The key no longer authorized: one ERROR naming the setting, recovered once put back.
          const key = await Deno.readTextFile(r.authorizedKeys);
          await Deno.writeTextFile(r.authorizedKeys, "");
          await r.killSshd();
          await r.startSshd();
          const keyError = /ERROR.*refused the key \(setting remote_identity\)/;
          await until(
            () => records.map(formatRecord).some((l) => keyError.test(l)),
            "the ERROR",
            20_000,
          );
          await pause(5000);
          assertEquals(records.map(formatRecord).filter((l) => keyError.test(l)).length, 1);
          await Deno.writeTextFile(r.authorizedKeys, key);
          await assertRecovered(r.d, daemon);

          const renewed = (await r.sshdLog()).split("\n").filter((l) => /auth succeeded/.test(l));
          assert(renewed.length >= 12, `logins: ${renewed.length}`);
          assert(tcs(await r.routerProcesses()) <= 3, JSON.stringify(await r.routerProcesses()));
          assertEquals(await daemon.stop(), ExitCode.OK, text(records));
          assertEquals((await r.d.tbf("vdl")).rateKbit, 50000, "exit rate on the router");
          assertEquals((await r.d.tbf("vul")).rateKbit, 10000, "exit rate on the router");
          assertEquals(matching(records, /failed/).length, 0, text(records));
          // Every session ended with its input: no tc, shell or session left on the router.
          await until(
            async () => {
              const left = await r.routerProcesses();
              return tcs(left) === 0 && left.filter((p) => p.comm === "dropbear").length === 1;
            },
            "the sessions' end on the router",
            10_000,
          );
        } catch (e) {
          console.log(text(records));
          console.log(await r.sshdLog().catch(() => ""));
          throw e;
        } finally {
          await daemon.stop();
          await adapters.counters.close?.();
        }
      })
    ),
});
