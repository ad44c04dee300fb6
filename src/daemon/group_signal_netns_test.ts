/**
 * Ctrl-C in a terminal (SIGINT) and systemd's default KillMode (SIGTERM) signal the daemon's
 * whole process group or cgroup, not the daemon alone. Its helpers (the pinger, the `ip` and `tc`
 * coprocesses) run in their own session, so only the daemon gets the signal: it sets the exit
 * rate through its own `tc` helper and stops the others, without logging them as having died.
 * Real daemon process, real `fping`, `ip` and `tc`, in a throw-away network namespace.
 */
import { assert, assertEquals } from "../util/assert.ts";
import { ExitCode } from "../util/exit_codes.ts";
import {
  addTbfVethPair,
  collectStderr,
  daemonRuntimeDir,
  must,
  needs,
  netnsSkipReason,
  pollUntil,
  rootQdisc,
  withNetns,
} from "../util/netns_testing.ts";

const reason = await netnsSkipReason();
const MAIN = new URL("../../main.ts", import.meta.url).pathname;

Deno.test({
  ...needs(
    "daemon process in a netns: SIGTERM to its whole process group sets the exit rate, no helper WARN",
    reason,
  ),
  fn: () =>
    withNetns("sqma-pgrp", async (ns) => {
      const dir = await daemonRuntimeDir("pgrp-");
      await addTbfVethPair(ns, "vdl", "vul");
      await must("ip", ["-n", ns, "link", "set", "lo", "up"]);
      // setsid: the daemon leads a process group of its own, as a shell's foreground job does.
      const child = new Deno.Command("setsid", {
        args: [
          ...["ip", "netns", "exec", ns, Deno.execPath(), "run", "-P=dev", MAIN, "run"],
          ...["--ul", "vul", "--dl", "vdl", "--ub", "10000", "--db", "50000", "--shaper", "tbf"],
          ...["--reflector-list-file", `${dir}/reflectors.csv`, "--pinger", "fping"],
          ...["--exit-rate", "min", "--suppress-statistics", "--state-dir", `${dir}/state`],
        ],
        stdout: "null",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).spawn();
      const { log, done: collecting } = collectStderr(child);
      let code: number | undefined;
      try {
        await pollUntil(() => Promise.resolve(log()), (t) => t.includes("control started"), {
          ms: 30_000,
          what: "control",
          everyMs: 100,
        });
        await new Promise((r) => setTimeout(r, 2000)); // a few ticks of pings and readings
        // The group (the pid of setsid, which became `ip netns exec` and then the daemon).
        await must("kill", ["-TERM", "--", `-${child.pid}`]);
        code = (await child.status).code;
      } finally {
        if (code === undefined) {
          try {
            child.kill("SIGKILL");
          } catch { /* gone */ }
          await child.status;
        }
        await collecting;
        await Deno.remove(dir, { recursive: true });
      }
      assertEquals(code, ExitCode.OK, log());
      // exit_rate min: 20 % of each base.
      assertEquals((await rootQdisc(ns, "vdl")).rateKbit, 10000, log());
      assertEquals((await rootQdisc(ns, "vul")).rateKbit, 2000, log());
      const warnings = log().split("\n").filter((l) => /^\[(WARN|ERROR|FATAL) /.test(l));
      assertEquals(warnings, [], log());
      assert(log().includes("shutting down"), log());
    }),
});
