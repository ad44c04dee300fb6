/**
 * A start-up change that fails for another reason than privilege (docs/operation.md, "A change
 * that fails at start-up"): real `tc` in a throw-away network namespace, the download's root TBF
 * replaced by HTB between the start-up check and the first change (the moment the daemon reads
 * the link kinds). Before, the failure was kept and said nothing until the first tick, after the
 * settle and the baseline wait; now it is one ERROR at once, naming the interface and tc's
 * reason, and the loop's retries do not log it again.
 */
import { assert, assertEquals } from "../util/assert.ts";
import { readLinkKind } from "../apply/link_kind.ts";
import type { LogRecord } from "../log/logger.ts";
import { configureLogging, formatRecord, resetLogging } from "../log/mod.ts";
import { ExitCode } from "../util/exit_codes.ts";
import { needs, netnsSkipReason, pollUntil, withNetns } from "../util/netns_testing.ts";
import { withDaemonNetns } from "./netns_fixture.ts";

Deno.test({
  ...needs(
    "daemon: a start-up change that tc fails (root replaced) is one ERROR at once, not at the first tick",
    await netnsSkipReason(),
  ),
  fn: () =>
    withNetns("sqma-startfail", (ns) =>
      withDaemonNetns(ns, {}, async (d) => {
        const records: LogRecord[] = [];
        configureLogging("INFO", { sink: (r) => void records.push(r) });
        try {
          let replaced = false;
          const daemon = d.start({
            // Read after the start-up check and before the minimum rates are set.
            linkKind: async (ifname) => {
              if (!replaced) {
                replaced = true;
                await d.tc(["qdisc", "replace", "dev", "vdl", "root", "handle", "1:", "htb"]);
              }
              return await readLinkKind(ifname, { netns: ns });
            },
            // Long enough for the settle to end before the first tick: the ERROR must come first.
            timing: { settleS: 0.5, baselineWaitS: 1 },
          });
          const lines = () => records.map(formatRecord);
          // A few ticks of control (0.1 s apart), each retrying the failed change.
          await pollUntil(
            () => lines().findIndex((l) => l.includes("control started")),
            (i) => i >= 0,
            { ms: 10_000, what: "control started" },
          );
          await new Promise((r) => setTimeout(r, 1000));
          assertEquals(await daemon.stop(), ExitCode.OK);
          const text = lines().join("");
          const errors = records.filter((r) => r.level === "error").map(formatRecord);
          const onVdl = errors.filter((l) => l.includes("vdl"));
          assertEquals(onVdl.length, 1, text);
          assert(onVdl[0].includes("start-up: setting the minimum rate on vdl failed"), text);
          assert(onVdl[0].includes("replaced by htb"), text);
          const at = (part: string) => lines().findIndex((l) => l.includes(part));
          assert(at("start-up: setting the minimum rate") < at("control started"), text);
          // Upload unaffected; the retries of vdl at DEBUG only (below the INFO level here).
          assertEquals((await d.tbf("vul")).kind, "tbf");
        } finally {
          resetLogging();
        }
      })),
});
