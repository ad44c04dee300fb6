/**
 * The daemon against real `tc` and `ip` in a throw-away network namespace: TBF on both ends of
 * a veth pair, real counters through the ip coprocess, a fake measurement, real timers.
 */
import { assertEquals } from "../util/assert.ts";
import { settingsWithDefaults } from "../config/defaults.ts";
import { createOwdState } from "../baseline/owd_state.ts";
import type { MeasurementService } from "../control/ports.ts";
import { createShaperPair } from "../apply/shaper.ts";
import { createCounterReader } from "../counters/mod.ts";
import { systemClock } from "../util/clock.ts";
import { ExitCode } from "../util/exit_codes.ts";
import { runDaemon } from "./mod.ts";
import { must, netnsSkipReason, withNetns } from "../util/netns_testing.ts";

const reason = await netnsSkipReason();
if (reason !== undefined) console.log(`daemon netns_test: skipped (${reason})`);

Deno.test({
  name: "daemon in a netns: min → 60 % of base → exit rate on real TBF qdiscs",
  ignore: reason !== undefined,
  fn: () =>
    withNetns("sqma-daemon", async (ns) => {
      const settings = settingsWithDefaults({
        dl_if: "vdl",
        ul_if: "vul",
        base_dl_rate: 50000,
        base_ul_rate: 10000,
        shaper: "tbf",
        suppress_statistics: true,
        min_change_interval: 0.1,
      });
      const counters = createCounterReader(settings, { netns: ns });
      try {
        await must("ip", ["-n", ns, "link", "add", "vdl", "type", "veth", "peer", "name", "vul"]);
        for (const dev of ["vdl", "vul"]) {
          await must("ip", ["-n", ns, "link", "set", dev, "up"]);
          await must("tc", [
            "-n",
            ns,
            "qdisc",
            "add",
            "dev",
            dev,
            "root",
            "tbf",
            "rate",
            "1mbit",
            "burst",
            "10kb",
            "latency",
            "20ms",
          ]);
        }
        const rateOf = async (dev: string) =>
          JSON.parse(await must("tc", ["-n", ns, "-j", "qdisc", "show", "dev", dev]))[0].options
            .rate * 8 / 1000;
        const seen: number[] = [];
        const owd = createOwdState(["r1", "r2", "r3", "r4", "r5"]);
        let timer: ReturnType<typeof setInterval> | undefined;
        const measurement: MeasurementService = {
          owd,
          reselect: { requestReselect: () => {} },
          start: async () => {
            seen.push(await rateOf("vdl")); // minimum while measuring the first baselines
            const feed = () => {
              const t = systemClock.monotonicS();
              for (const ip of owd.peers) {
                owd.baseline.set(ip, { up_ewma: 1, down_ewma: 1, last_receive_time_s: t });
                owd.recent.set(ip, { up_ewma: 1, down_ewma: 1, last_receive_time_s: t });
              }
            };
            feed();
            timer = setInterval(feed, 50);
          },
          stop: () => {
            clearInterval(timer);
            return Promise.resolve();
          },
        };
        const ac = new AbortController();
        const daemon = runDaemon(settings, {
          measurement,
          shapers: createShaperPair(settings, { netns: ns }),
          counters,
          shutdown: ac.signal,
          timing: { settleS: 0.1, baselineWaitS: 1 },
        });
        // Let it control for a moment, then read the rate in force.
        await new Promise((r) => setTimeout(r, 600));
        seen.push(await rateOf("vdl"), await rateOf("vul"));
        ac.abort();
        assertEquals(await daemon, ExitCode.OK);
        seen.push(await rateOf("vdl"), await rateOf("vul"));
        assertEquals(seen, [10000, 30000, 6000, 50000, 10000]);
      } finally {
        await counters.close();
      }
    }),
});
