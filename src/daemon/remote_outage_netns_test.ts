/**
 * Remote mode with the router away for long (docs/operation.md, "A router that stays away"): a
 * change is in flight when the link to a real OpenSSH server starts dropping every frame. While
 * the counter session gets no answer, its redials (growing delay, at most one per 30 s) must be
 * the only ssh the daemon starts (no `tc -batch` session, no `ssh … tc`), and once it answers the
 * rate must be made within a few seconds. `SQMA_OUTAGE_S` sets the outage (default 45 s;
 * docs/operation.md's figures: 180).
 */
import { assert, assertEquals } from "../util/assert.ts";
import { ExitCode } from "../util/exit_codes.ts";
import { formatRecord, stageLogger } from "../log/mod.ts";
import { needs, netnsSkipReason } from "../util/netns_testing.ts";
import {
  type FlippingDaemon,
  flippingDaemon,
  matching,
  pause,
  signal,
  until,
  withLogs,
} from "./hung_testing.ts";
import { createRemoteAdapters } from "../remote/mod.ts";
import { sshdSkipReason, type SshRouterNetns, withSshRouterNetns } from "./ssh_netns_fixture.ts";

const reason = (await netnsSkipReason()) ?? (await sshdSkipReason());
const OUTAGE_S = Number(Deno.env.get("SQMA_OUTAGE_S") ?? "45");
const CUT = Deno.env.get("SQMA_OUTAGE_CUT") === "down" ? "down" : "drop";

/**
 * Remote adapters whose ssh is a wrapper logging each run's arguments (with its time) to `log`,
 * in a temporary `dir` the caller removes.
 */
async function loggedSshAdapters(r: SshRouterNetns, prefix: string) {
  const dir = await Deno.makeTempDir({ prefix });
  const log = `${dir}/ssh.log`;
  const wrapper = `${dir}/ssh`;
  await Deno.writeTextFile(
    wrapper,
    `#!/bin/sh\necho "$(date +%s.%N) $*" >> ${log}\nexec ${r.sshPath} "$@"\n`,
  );
  await Deno.chmod(wrapper, 0o755);
  const adapters = createRemoteAdapters(r.d.settings, {
    sshPath: wrapper,
    logger: stageLogger("remote"),
  });
  return { dir, log, adapters };
}

/**
 * A change (28000 kbit/s) in flight when the link is cut (`drop` by default): the router's tc
 * stopped while the change is written, resumed after the cut. Returns the cut's time, s.
 */
async function dropWithChangeInFlight(
  r: SshRouterNetns,
  daemon: FlippingDaemon,
  cut: "drop" | "down" = "drop",
): Promise<number> {
  const tcs = (await r.routerProcesses()).filter((p) => p.comm === "tc");
  for (const p of tcs) signal(p.pid, "SIGSTOP");
  daemon.hold(28000);
  await pause(300);
  await r.link(cut);
  const cutAt = Date.now() / 1000;
  for (const p of tcs) signal(p.pid, "SIGCONT");
  return cutAt;
}

/** Counts the daemon's ssh runs by what they run, from a wrapper's log of their arguments. */
function sshRuns(lines: string[]): { session: number; tc: number; counters: number } {
  const n = { session: 0, tc: 0, counters: 0 };
  for (const l of lines) {
    if (l.includes("/sys/class/net")) n.counters++;
    else if (l.includes("-batch")) n.session++;
    else n.tc++;
  }
  return n;
}

Deno.test({
  ...needs(
    "remote (netns, sshd): the router away for long with a change in flight: only the counter " +
      "session redials, the rate is made within seconds of its answer, faults logged once",
    reason,
  ),
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withLogs((records) =>
      withSshRouterNetns("sqma-rlong", {}, async (r) => {
        const { dir, log, adapters } = await loggedSshAdapters(r, "sqma-rlong-");
        const daemon = flippingDaemon(r.d, adapters);
        const text = () => records.map(formatRecord).join("");
        try {
          await until(async () => (await r.d.tbf("vdl")).rateKbit >= 20000, "control", 30_000);
          // A change in flight when the router goes away: its tc stopped, the change written,
          // then the link cut.
          const cutAt = await dropWithChangeInFlight(r, daemon, CUT);
          daemon.hold(29000); // decided once the counters answer again
          await until(
            () => matching(records, /counters on .* unreadable/).length > 0,
            "the outage's log line",
            30_000,
          );
          const noticed = Date.now() / 1000 - cutAt;
          const steadyFrom = Date.now() / 1000 + 15;
          await pause(OUTAGE_S * 1000);
          const accepted = async () =>
            (await r.sshdLog()).split("\n").filter((l) => l.includes("Accepted publickey")).length;
          const acceptedBefore = await accepted();
          const backAt = Date.now() / 1000;
          await r.link(CUT === "down" ? "up" : "pass");
          await until(
            async () => daemon.lastRate() === 29000 && (await r.d.tbf("vdl")).rateKbit === 29000,
            "the rate made after the outage",
            60_000,
          );
          const madeAt = Date.now() / 1000;
          const connections = await accepted() - acceptedBefore;
          const answered = matching(records, /answers again/)[0].timestamp / 1000;
          const during = (await Deno.readTextFile(log)).trim().split("\n").filter((l) => {
            const t = Number(l.split(" ")[0]);
            return t >= steadyFrom && t < backAt;
          });
          const runs = sshRuns(during);
          const after = (await Deno.readTextFile(log)).trim().split("\n").filter((l) =>
            Number(l.split(" ")[0]) >= backAt
          ).map((l) => {
            const [t, ...rest] = l.split(" ");
            return `${(Number(t) - backAt).toFixed(2)} s ${rest.join(" ").slice(-60)}`;
          });
          console.log(`ssh started after the link was back:\n${after.join("\n")}`);
          const minutes = (backAt - steadyFrom) / 60;
          console.log(
            `noticed ${
              noticed.toFixed(1)
            } s after the cut; ${OUTAGE_S} s outage, from 15 s in: ssh runs per minute: counter session ` +
              `${(runs.counters / minutes).toFixed(1)}, tc session ` +
              `${(runs.session / minutes).toFixed(1)}, ssh … tc ${
                (runs.tc / minutes).toFixed(1)
              }; ` +
              `the router answered the counters ${(answered - backAt).toFixed(1)} s after the ` +
              `link was back, the rate was made ${(madeAt - answered).toFixed(1)} s after that ` +
              `(${connections} ssh connection(s) to the router meanwhile); ` +
              `${records.length} log lines`,
          );
          assertEquals(runs.session + runs.tc, 0, `ssh for tc while away:\n${during.join("\n")}`);
          assert(runs.counters <= minutes * 2 + 2, `counter redials: ${runs.counters}`);
          // A dialling ssh sends a SYN at least every 4 s (ConnectTimeout 10 s: SYNs at 0, 1, 3
          // and 7 s of each attempt, the next attempt 1 s after its timeout).
          assert(answered - backAt < 8, `answered ${answered - backAt} s after the return`);
          // Through the counter session that just answered, not a tc session's connection (1.9–3.7
          // s after the answer before: docs/operation.md, "A router that stays away").
          assert(madeAt - answered < 1.5, `made ${madeAt - answered} s after the answer`);
          assertEquals(matching(records, /counters on .* unreadable/).length, 1, text());
          assertEquals(matching(records, /answers again/).length, 1, text());
          assert(matching(records, /tc -batch coprocess .*restarting/).length <= 1, text());
          assert(matching(records, /setting vdl .* failed/).length <= 2, text());
          assertEquals(await daemon.stop(), ExitCode.OK, text());
          assertEquals((await r.d.tbf("vdl")).rateKbit, 50000, "exit rate on the router");
        } finally {
          await daemon.stop();
          await adapters.counters.close?.();
          await Deno.remove(dir, { recursive: true }).catch(() => {});
        }
      })
    ),
});

Deno.test({
  ...needs(
    "remote (netns, sshd): SIGTERM while an ssh … tc hangs (the link dropping frames): the " +
      "exit rate is tried without waiting for it, and the daemon exits within a few seconds",
    reason,
  ),
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withLogs((records) =>
      withSshRouterNetns("sqma-rstop", {}, async (r) => {
        const { dir, log, adapters } = await loggedSshAdapters(r, "sqma-rstop-");
        const daemon = flippingDaemon(r.d, adapters);
        const text = () => records.map(formatRecord).join("");
        const lines = async () => (await Deno.readTextFile(log)).trim().split("\n");
        try {
          await until(async () => (await r.d.tbf("vdl")).rateKbit >= 20000, "control", 30_000);
          await dropWithChangeInFlight(r, daemon);
          // The session gets no answer: the change runs as an ssh … tc, which hangs.
          await until(
            async () => (await lines()).some((l) => / tc qdisc change .*28000Kbit/.test(l)),
            "the spawned ssh … tc",
            10_000,
          );
          await pause(200);
          const started = Date.now();
          assertEquals(await daemon.stop(), ExitCode.OK, text());
          const tookMs = Date.now() - started;
          const after = (await lines()).filter((l) => Number(l.split(" ")[0]) * 1000 >= started);
          console.log(
            `SIGTERM to exit with an ssh … tc hanging: ${tookMs} ms; ssh started after it:\n` +
              after.map((l) => l.slice(-70)).join("\n"),
          );
          // Through a fresh session (the rate on its stdin) or as an ssh … tc.
          assert(
            after.some((l) => /-batch -$|50000Kbit/.test(l)),
            `the exit rate was tried\n${text()}`,
          );
          assert(tookMs < 12_000, `stopping took ${tookMs} ms\n${text()}`);
        } finally {
          await daemon.stop();
          await adapters.counters.close?.();
          await Deno.remove(dir, { recursive: true }).catch(() => {});
        }
      })
    ),
});
