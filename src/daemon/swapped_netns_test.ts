/**
 * Swapped interfaces at the daemon's start (docs/operation.md, "Swapped interfaces"): real `tc`
 * and `ip` in a throw-away network namespace, an IFB named as the upload interface and a veth as
 * the download (`--ul ifb4wan --dl wan`). Before, only `check-config` said so and the daemon
 * shaped the download at the upload rates without a word; now its start warns once, in the words
 * of check-config's detection (src/apply/swapped_interfaces.ts).
 */
import { assert, assertEquals } from "../util/assert.ts";
import type { LogRecord } from "../log/logger.ts";
import { configureLogging, formatRecord, resetLogging } from "../log/mod.ts";
import { ExitCode } from "../util/exit_codes.ts";
import { must, needs, netnsSkipReason, pollUntil, withNetns } from "../util/netns_testing.ts";
import { withDaemonNetns } from "./netns_fixture.ts";

Deno.test({
  ...needs(
    "daemon: an IFB as the upload interface and a veth as the download is warned about once at start",
    await netnsSkipReason(),
  ),
  fn: () =>
    withNetns("sqma-swapd", async (ns) => {
      // sqm-scripts' IFB, named where the upload interface belongs.
      await must("ip", ["-n", ns, "link", "add", "ifbs", "type", "ifb"]);
      await must("ip", ["-n", ns, "link", "set", "ifbs", "up"]);
      await must("tc", [
        ...["-n", ns, "qdisc", "add", "dev", "ifbs", "root"],
        ...["tbf", "rate", "1mbit", "burst", "10kb", "latency", "20ms"],
      ]);
      await withDaemonNetns(ns, { dl_if: "vdl", ul_if: "ifbs" }, async (d) => {
        const records: LogRecord[] = [];
        configureLogging("INFO", { sink: (r) => void records.push(r) });
        try {
          const daemon = d.start();
          const lines = () => records.map(formatRecord);
          await pollUntil(
            () => lines().some((l) => l.includes("control started")),
            (started) => started,
            { ms: 10_000, what: "control started" },
          );
          assertEquals(await daemon.stop(), ExitCode.OK);
          const text = lines().join("");
          const warned = records.filter((r) => r.level === "warning").map(formatRecord)
            .filter((l) => l.includes("look swapped"));
          assertEquals(warned.length, 1, text);
          assert(
            warned[0].includes(
              'ul_if "ifbs" is an IFB and dl_if "vdl" is not: an IFB carries what arrives (the ' +
                "download), so upload_interface and download_interface look swapped; shaping the " +
                "download at the upload rates as configured",
            ),
            warned[0],
          );
        } finally {
          resetLogging();
        }
      });
    }),
});
