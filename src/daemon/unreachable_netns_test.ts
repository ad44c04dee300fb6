/**
 * The daemon with the real pinger in a throw-away network namespace whose route to every
 * reflector goes away for a few seconds (an `unreachable` rule ahead of the local table): fping
 * then prints nothing while it runs, and a `ping` started meanwhile exits at once (`ping:
 * connect: Network is unreachable`). The reflectors must go stale, the outage must be logged
 * once (not a line per probe, child or reselection), and probing must come back by itself
 * (docs/operation.md, "Its helper processes").
 */
import { assert, assertEquals } from "../util/assert.ts";
import { ExitCode } from "../util/exit_codes.ts";
import type { LogRecord } from "../log/logger.ts";
import { configureLogging, formatRecord, resetLogging } from "../log/mod.ts";
import type { TickEvent } from "../control/ports.ts";
import { createMeasurement } from "../measure/mod.ts";
import { must, needs, netnsSkipReason, withNetns } from "../util/netns_testing.ts";
import { withDaemonNetns } from "./netns_fixture.ts";

const reason = await netnsSkipReason();

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (polling, at most `ms`) until `ok()` holds. */
async function until(ok: () => boolean, what: string, ms = 5000) {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await pause(20);
  }
}

/** Reflectors that answer inside any namespace (its `lo`). */
const LOOPBACK_POOL = Array.from({ length: 12 }, (_, i) => `127.0.0.${i + 1}`);

/** Pinger, pool size: with 5 (= num_reflectors) a reselection can only set the same peers again. */
const CASES = [["fping", 12], ["ping", 5], ["ping", 12]] as const;

for (const [tool, poolSize] of CASES) {
  Deno.test({
    ...needs(
      `unreachable route (netns): ${tool}, a pool of ${poolSize}: reflectors go stale, the ` +
        "outage is logged once, probing comes back",
      reason,
    ),
    fn: async () => {
      const records: LogRecord[] = [];
      configureLogging("INFO", { sink: (r) => void records.push(r) });
      try {
        await withNetns(
          "sqma-unreach",
          (ns) =>
            withDaemonNetns(ns, { measurement_type: "icmp" }, async (d) => {
              // Move the local table behind a free preference so that a rule can cut 127.0.0.0/24.
              await must("ip", ["-n", ns, "rule", "add", "pref", "100", "lookup", "local"]);
              await must("ip", ["-n", ns, "rule", "del", "pref", "0"]);
              const measurement = createMeasurement(d.settings, {
                pool: LOOPBACK_POOL.slice(0, poolSize),
                initialPeers: LOOPBACK_POOL.slice(0, 5),
                commandPrefix: ["ip", "netns", "exec", ns],
                pingerChoice: { tool, binary: tool },
              });
              const ticks: TickEvent[] = [];
              const daemon = d.start({
                measurement,
                observers: [{ onTick: (e) => ticks.push(e) }],
              });
              try {
                await until(() => ticks.some((t) => t.fresh >= 5), "five fresh reflectors");
                const cut = ["rule", "add", "pref", "1", "to", "127.0.0.0/24", "unreachable"];
                await must("ip", ["-n", ns, ...cut]);
                const stalled = ticks.length;
                await until(
                  () => ticks.slice(stalled).some((t) => t.fresh === 0),
                  "stale reflectors",
                );
                await pause(4000); // several reselections and restarts
                await must("ip", ["-n", ns, "rule", "del", "pref", "1"]);
                const back = ticks.length;
                await until(
                  () => ticks.slice(back).some((t) => t.fresh >= 5),
                  "fresh reflectors again",
                  10000,
                );
                const text = records.map(formatRecord).join("");
                const count = (re: RegExp) => records.filter((r) => re.test(r.rawMessage)).length;
                assertEquals(count(/fresh reflectors \(need 5\)/), 1, text);
                assertEquals(count(/fresh reflectors again/), 1, text);
                assert(count(/restarting in/) <= 1, text); // a ping exiting at once, per outage
                assert(count(/^Selected reflectors/) <= 2, text); // the same set is no news
                // Once per silent child (one fping, or a ping per reflector).
                assert(count(/printed no reply/) <= (tool === "fping" ? 1 : 5), text);
                assertEquals(await daemon.stop(), ExitCode.OK);
              } finally {
                await daemon.stop();
              }
            }),
        );
      } finally {
        resetLogging();
      }
    },
  });
}
