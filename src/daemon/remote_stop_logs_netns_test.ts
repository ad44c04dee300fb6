/**
 * What a stop logs when the router's sessions are gone (sshd killed): the installed daemon
 * (`main.ts run` under `-P=daemon`) shaping a real OpenSSH server's router
 * (ssh_netns_fixture.ts). The outage's own WARNs and the exit rate's one WARN, nothing more: the
 * `tc -batch` session found dead by the exit rate is not "restarting" at a stop (nothing is
 * restarted then; docs/operation.md, "Stopping while the router does not answer").
 */
import { assertEquals } from "../util/assert.ts";
import {
  daemonRuntimeDir,
  daemonUci,
  needs,
  netnsSkipReason,
  pollUntil,
  withSpawnedDaemon,
} from "../util/netns_testing.ts";
import { remoteUciSection, sshdSkipReason, withSshRouterNetns } from "./ssh_netns_fixture.ts";

const reason = (await netnsSkipReason()) ?? (await sshdSkipReason());

Deno.test({
  ...needs(
    "remote (netns, sshd, installed daemon): SIGTERM with sshd killed logs the outage and the " +
      "exit rate not set, no tc -batch restart",
    reason,
  ),
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withSshRouterNetns("sqma-rslog", {}, async (r) => {
      const dir = await daemonRuntimeDir("rslog-");
      try {
        const conf = `${dir}/sqm-autorate`;
        await Deno.writeTextFile(
          conf,
          daemonUci(dir, {
            ul: "vul",
            dl: "vdl",
            dlBaseKbits: 50000,
            tail: remoteUciSection(r.d.settings),
          }),
        );
        const { code, log } = await withSpawnedDaemon(
          r.client,
          ["run", "--config", conf],
          async (daemon) => {
            await pollUntil(daemon.log, (l) => l.includes("control started"), {
              ms: 30_000,
              what: "control",
            });
            await r.killSshd();
            await pollUntil(daemon.log, (l) => l.includes("byte counters unreadable"), {
              ms: 10_000,
              what: "outage",
            });
          },
        );
        assertEquals(code, 0, log);
        const warnings = log.split("\n").filter((l) => /^\[(WARN|ERROR|FATAL) /.test(l))
          .map((l) => l.replace(/^\[(\w+) - [^\]]*\]: /, "$1 "));
        assertEquals(warnings, [
          "WARN counters on root@10.77.0.1 unreadable (session closed); holding the rates and " +
          "redialling",
          "WARN byte counters unreadable: holding the rates until they are back",
          "WARN exit rate not set (download, upload); exiting without it",
        ], log);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }),
});
