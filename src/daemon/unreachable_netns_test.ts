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
import { loopbackMeasurement, matching, pause, until } from "./hung_testing.ts";

const reason = await netnsSkipReason();

/**
 * Once the cut is in place: waits until every reflector is stale, keeps the outage `holdMs`, runs
 * `heal` and waits until five are fresh again.
 */
async function outageAndBack(
  ticks: TickEvent[],
  o: { holdMs: number; heal: () => Promise<unknown> },
): Promise<void> {
  const stalled = ticks.length;
  await until(() => ticks.slice(stalled).some((t) => t.fresh === 0), "stale reflectors");
  await pause(o.holdMs);
  await o.heal();
  const back = ticks.length;
  await until(() => ticks.slice(back).some((t) => t.fresh >= 5), "fresh reflectors again", 10000);
}

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
              const measurement = loopbackMeasurement(d, { tool, poolSize });
              const ticks: TickEvent[] = [];
              const daemon = d.start({
                measurement,
                observers: [{ onTick: (e) => ticks.push(e) }],
              });
              try {
                await until(() => ticks.some((t) => t.fresh >= 5), "five fresh reflectors");
                const cut = ["rule", "add", "pref", "1", "to", "127.0.0.0/24", "unreachable"];
                await must("ip", ["-n", ns, ...cut]);
                await outageAndBack(ticks, {
                  holdMs: 4000, // several reselections and restarts
                  heal: () => must("ip", ["-n", ns, "rule", "del", "pref", "1"]),
                });
                const text = records.map(formatRecord).join("");
                const count = (re: RegExp) => matching(records, re).length;
                assertEquals(count(/fresh reflectors \(need 5\)/), 1, text);
                assertEquals(count(/fresh reflectors again/), 1, text);
                assert(count(/restarting in/) <= 1, text); // a ping exiting at once, per outage
                assert(count(/^Selected reflectors/) <= 2, text); // the same set is no news
                // Once per outage, for all children (src/measure/pinger.ts).
                assert(count(/printed no reply/) <= 1, text);
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

/** Reflectors behind the uplink of the uplink tests (on the far namespace's `lo`). */
const FAR_POOL = Array.from({ length: 12 }, (_, i) => `10.79.0.${i + 1}`);

for (const poolSize of [5, 12]) {
  Deno.test({
    ...needs(
      `uplink lost (netns): ping, a pool of ${poolSize}: every ping silent for 8 s is one ` +
        "silence WARN for the outage and one INFO when replies come back",
      reason,
    ),
    fn: async () => {
      const records: LogRecord[] = [];
      configureLogging("INFO", { sink: (r) => void records.push(r) });
      try {
        await withNetns("sqma-uplinkw", (far) =>
          withNetns(
            "sqma-uplink",
            (ns) =>
              withDaemonNetns(ns, { measurement_type: "icmp" }, async (d) => {
                await must("ip", [
                  ...["-n", ns, "link", "add", "up0", "type", "veth"],
                  ...["peer", "name", "up1", "netns", far],
                ]);
                await must("ip", ["-n", ns, "addr", "add", "10.78.0.1/30", "dev", "up0"]);
                await must("ip", ["-n", far, "addr", "add", "10.78.0.2/30", "dev", "up1"]);
                for (const ip of FAR_POOL) {
                  await must("ip", ["-n", far, "addr", "add", `${ip}/32`, "dev", "lo"]);
                }
                await must("ip", ["-n", ns, "link", "set", "up0", "up"]);
                await must("ip", ["-n", far, "link", "set", "up1", "up"]);
                await must("ip", ["-n", ns, "route", "add", "10.79.0.0/24", "via", "10.78.0.2"]);
                const measurement = createMeasurement(d.settings, {
                  pool: FAR_POOL.slice(0, poolSize),
                  initialPeers: FAR_POOL.slice(0, 5),
                  commandPrefix: ["ip", "netns", "exec", ns],
                  pingerChoice: { tool: "ping", binary: "ping" },
                });
                const ticks: TickEvent[] = [];
                const daemon = d.start({
                  measurement,
                  observers: [{ onTick: (e) => ticks.push(e) }],
                });
                try {
                  await until(() => ticks.some((t) => t.fresh >= 5), "five fresh reflectors");
                  // The uplink loses every frame (a next hop that no longer answers): the
                  // pings run on and print nothing.
                  const gw = ["10.78.0.2", "dev", "up0"];
                  await must("ip", [
                    ...["-n", ns, "neigh", "replace", "10.78.0.2"],
                    ...["lladdr", "02:00:00:00:00:01", "nud", "permanent", "dev", "up0"],
                  ]);
                  await outageAndBack(ticks, {
                    holdMs: 8000, // several reselections and silence restarts
                    heal: () => must("ip", ["-n", ns, "neigh", "del", ...gw]),
                  });
                  const text = records.map(formatRecord).join("");
                  const count = (re: RegExp) => matching(records, re).length;
                  console.log(
                    `silence WARN ${count(/printed no reply/)}, replies again ${
                      count(/replies again/)
                    }, exit WARN ${count(/restarting in/)}`,
                  );
                  assertEquals(count(/fresh reflectors \(need 5\)/), 1, text);
                  assertEquals(count(/fresh reflectors again/), 1, text);
                  assert(count(/restarting in/) <= 1, text);
                  // Once for the outage, not once per reflector's ping.
                  const silence = count(/printed no reply/);
                  if (poolSize === 5) assertEquals(silence, 1, text);
                  else assert(silence <= 1, text);
                  assertEquals(count(/replies again/), silence, text);
                  assertEquals(await daemon.stop(), ExitCode.OK);
                } finally {
                  await daemon.stop();
                }
              }),
          ));
      } finally {
        resetLogging();
      }
    },
  });
}
