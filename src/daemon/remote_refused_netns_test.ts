/**
 * Remote mode against a real OpenSSH server (ssh_netns_fixture.ts) whose redials are refused while
 * the daemon runs: the router's host key changed (reinstalled firmware, a new SSH server) and the
 * daemon's key no longer authorized. The counter session's WARN at the outage's start cannot say
 * why (the session just ended); what ssh said must be logged once at ERROR naming the setting to
 * fix, not once per redial, and the daemon must recover without a restart once it is fixed
 * (docs/remote.md, "Start-up and faults"). The loop's thread blocks between ticks as the release
 * daemon's does (blockingSleep): a refused redial answers at once and its restart delay has no
 * I/O, so without a turn of the event loop in the failed counter reading the measurement's replies
 * were never taken in and the reflectors went stale (docs/remote.md, "Start-up and faults").
 */
import { assertEquals } from "../util/assert.ts";
import { ExitCode } from "../util/exit_codes.ts";
import type { LogRecord } from "../log/logger.ts";
import { formatRecord, stageLogger } from "../log/mod.ts";
import { must, needs, netnsSkipReason } from "../util/netns_testing.ts";
import { assertRecovered, flippingDaemon, pause, until, withLogs } from "./hung_testing.ts";
import { createRemoteAdapters } from "../remote/mod.ts";
import { blockingSleep } from "../util/blocking_sleep.ts";
import { sshdSkipReason, type SshRouterNetns, withSshRouterNetns } from "./ssh_netns_fixture.ts";

const reason = (await netnsSkipReason()) ?? (await sshdSkipReason());

const lines = (records: LogRecord[], re: RegExp) =>
  records.map(formatRecord).filter((l) => re.test(l));

/** Restarts sshd (its sessions end, the daemon redials) after `change` in its key directory. */
async function restartWith(r: SshRouterNetns, change: (dir: string) => Promise<void>) {
  await change(r.keysDir);
  await r.killSshd();
  await r.startSshd();
}

Deno.test({
  ...needs(
    "remote (netns, sshd): redials refused (host key changed, then the key removed): each " +
      "logged once at ERROR naming the setting, recovered once fixed",
    reason,
  ),
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withLogs((records) =>
      withSshRouterNetns("sqma-rref", {}, async (r) => {
        const adapters = createRemoteAdapters(r.d.settings, {
          sshPath: r.sshPath,
          logger: stageLogger("remote"),
        });
        const daemon = flippingDaemon(r.d, { ...adapters, tickSleep: blockingSleep() });
        const text = () => records.map(formatRecord).join("");
        try {
          await until(async () => (await r.d.tbf("vdl")).rateKbit >= 20000, "control", 30_000);
          const dir = r.keysDir;
          const hostKey = await Deno.readFile(`${dir}/hostkey`);
          await restartWith(r, async () => {
            await must("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", `${dir}/newkey`]);
            await Deno.copyFile(`${dir}/newkey`, `${dir}/hostkey`);
          });
          const hostKeyError = /ERROR.*host key of .* has changed.*remote_known_hosts/;
          await until(() => lines(records, hostKeyError).length > 0, "the ERROR", 20_000)
            .catch((e) => {
              throw new Error(`${e}\n${text()}`);
            });
          await pause(8000); // several redials, each refused
          assertEquals(lines(records, hostKeyError).length, 1, text());
          await restartWith(r, (d) => Deno.writeFile(`${d}/hostkey`, hostKey));
          await assertRecovered(r.d, daemon);

          await restartWith(r, (d) => Deno.writeTextFile(`${d}/authorized_keys`, ""));
          const keyError = /ERROR.*refused the key \(setting remote_identity\)/;
          await until(() => lines(records, keyError).length > 0, "the ERROR", 20_000)
            .catch((e) => {
              throw new Error(`${e}\n${text()}`);
            });
          await pause(8000);
          assertEquals(lines(records, keyError).length, 1, text());
          await restartWith(r, (d) => Deno.copyFile(`${d}/userkey.pub`, `${d}/authorized_keys`));
          await assertRecovered(r.d, daemon);
          // The replies kept coming throughout: no reflector went stale while the router refused.
          assertEquals(lines(records, /fresh reflectors/), [], text());
          assertEquals(await daemon.stop(), ExitCode.OK);
          assertEquals((await r.d.tbf("vdl")).rateKbit, 50000, "exit rate on the router");
        } finally {
          await daemon.stop();
          await adapters.counters.close?.();
        }
      })
    ),
});
