/**
 * The installed daemon (`main.ts run` under `-P=daemon`, its real blocking sleep between ticks)
 * shaping a real OpenSSH server's router (ssh_netns_fixture.ts) whose link silently drops every
 * frame for 15 s: SIGTERM then must end it within the service manager's 15 s. A SIGTERM that came
 * during the blocking sleep is seen inside the next tick, whose retry of the change the outage
 * left unmade went to the silent router as the exit rate does: a session's first answer (10 s),
 * then an `ssh … tc` (10 s), before the exit rate's 6 s: the stop took 27.5 s
 * (src/daemon/stop_gate.ts; docs/operation.md, "Stopping while the router does not answer").
 */
import { assert, assertEquals } from "../util/assert.ts";
import {
  collectStderr,
  daemonRuntimeDir,
  daemonUci,
  needs,
  netnsSkipReason,
  pollUntil,
  spawnDaemonInNetns,
} from "../util/netns_testing.ts";
import { pause } from "./hung_testing.ts";
import { sshdSkipReason, withSshRouterNetns } from "./ssh_netns_fixture.ts";

const reason = (await netnsSkipReason()) ?? (await sshdSkipReason());

Deno.test({
  ...needs(
    "remote (netns, sshd, installed daemon): SIGTERM 15 s into a silent outage ends the daemon " +
      "within 15 s",
    reason,
  ),
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withSshRouterNetns("sqma-rstop", {}, async (r) => {
      const dir = await daemonRuntimeDir("rstop-");
      const s = r.d.settings;
      try {
        await Deno.writeTextFile(
          `${dir}/sqm-autorate`,
          daemonUci(dir, {
            ul: "vul",
            dl: "vdl",
            dlBaseKbits: 50000,
            tail: [
              "config remote",
              `\toption host '${s.remote}'`,
              `\toption identity_file '${s.remote_identity}'`,
              `\toption known_hosts_file '${s.remote_known_hosts}'`,
            ].join("\n"),
          }),
        );
        const child = spawnDaemonInNetns(r.client, ["run", "--config", `${dir}/sqm-autorate`]);
        const { log, done } = collectStderr(child);
        try {
          await pollUntil(log, (l) => l.includes("control started"), {
            ms: 30_000,
            what: "control",
          });
          await r.link("drop");
          await pollUntil(log, (l) => l.includes("unreadable"), { ms: 10_000, what: "outage" });
          await pause(15_000);
          const started = Date.now();
          child.kill("SIGTERM");
          const { code } = await child.status;
          const tookMs = Date.now() - started;
          console.log(`stopping took ${tookMs} ms`);
          assertEquals(code, 0, log());
          assert(tookMs < 15_000, `stopping took ${tookMs} ms\n${log()}`);
        } finally {
          try {
            child.kill("SIGKILL");
          } catch {
            // Exited.
          }
          await child.status;
          await done;
        }
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }),
});
