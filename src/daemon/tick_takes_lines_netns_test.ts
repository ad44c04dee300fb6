/**
 * The control loop's tick takes in the pinger's lines that waited in the pipe while the thread was
 * blocked before it judges freshness (docs/algorithm.md §5, "When a reply counts as received"):
 * real fping to loopback reflectors and the real `ip` coprocess in a throw-away namespace, the
 * thread blocked between ticks as the release daemon's is (src/util/blocking_sleep.ts). The
 * counter reading's round trip to `ip` is an I/O poll of the event loop, in which the pinger's
 * pipe is read; a turn that is not one (an asynchronous file read, which completes on a worker
 * thread) left lines unread at the judgement for up to 0.64 s on an idle machine in the thirtieth
 * session's harness. A missed line shows here as a judged reply older than one printed before the
 * tick began: by a whole fping period (0.5 s), against the 5 ms allowed.
 */
import { assert, assertEquals } from "../util/assert.ts";
import { settingsWithDefaults } from "../config/defaults.ts";
import { createOwdState } from "../baseline/owd_state.ts";
import { Baseliner } from "../baseline/baseliner.ts";
import { ControlLoop } from "../control/loop.ts";
import { EwmaController } from "../ratecontroller/ewma.ts";
import { createCounterReader } from "../counters/mod.ts";
import { createShaperPair } from "../apply/shaper.ts";
import { fpingFeaturesFromVersion, ProcessPinger } from "../measure/mod.ts";
import type { PingReply } from "../measure/types.ts";
import { blockThread } from "../util/blocking_sleep.ts";
import { type Clock, realSleep, systemClock } from "../util/clock.ts";
import { addTbfVethPair, needs, netnsSkipReason, withNetns } from "../util/netns_testing.ts";

const reason = await netnsSkipReason();

const PEERS = ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"];
/** Ticks judged (the thread blocked 0.3 s before each). */
const TICKS = 16;
/** A judged reply may be this much older than the newest printed before the tick began, s. */
const SLACK_S = 0.005;

Deno.test({
  ...needs(
    "netns, real fping and ip: a tick after a blocked wait judges the replies printed during it",
    reason,
  ),
  fn: () =>
    withNetns("sqma-tkl", async (ns) => {
      await addTbfVethPair(ns, "vdl", "vul");
      const settings = settingsWithDefaults({
        dl_if: "vdl",
        ul_if: "vul",
        base_dl_rate: 50000,
        base_ul_rate: 10000,
        shaper: "tbf",
        min_change_interval: 0.1,
      });
      // The tick's own time: the first clock reading after `mark` (the loop's `now`).
      let tickNowS: number | undefined;
      let marking = false;
      const clock: Clock = {
        ...systemClock,
        monotonicS: () => {
          const t = systemClock.monotonicS();
          if (marking) {
            tickNowS = t;
            marking = false;
          }
          return t;
        },
      };
      const owd = createOwdState(PEERS);
      const baseliner = new Baseliner(owd, { tickS: settings.tick_interval });
      const replies: PingReply[] = [];
      const pinger = new ProcessPinger({
        tool: "fping",
        binary: "fping",
        fping: fpingFeaturesFromVersion("fping: Version 5.1"),
        mode: "echo",
        tickS: settings.tick_interval,
        clock: systemClock,
        commandPrefix: ["ip", "netns", "exec", ns],
        onReply: (r) => {
          replies.push(r);
          baseliner.ingest(r);
        },
      });
      const counters = createCounterReader(settings, { netns: ns });
      const loop = new ControlLoop({
        settings,
        clock,
        owd,
        reselect: { requestReselect: () => {} },
        controller: new EwmaController(settings, () => 0.5),
        counters,
        shaper: createShaperPair(settings, { netns: ns }),
      });
      await pinger.start(PEERS);
      try {
        // Every peer answered twice (a baseline and a recent sample), the thread free meanwhile.
        for (let i = 0; i < 60; i++) {
          if (PEERS.every((ip) => replies.filter((r) => r.reflector === ip).length >= 2)) break;
          await realSleep(100);
        }
        await loop.start();
        const judged: { nowS: number; startS: number; samples: Map<string, number> }[] = [];
        for (let i = 0; i < TICKS; i++) {
          blockThread(300); // the daemon's wait between ticks: fping's lines wait in the pipe
          const startS = systemClock.monotonicS();
          marking = true;
          const result = await loop.tick();
          assert(tickNowS !== undefined && tickNowS >= startS);
          const samples = new Map<string, number>();
          for (const s of result.readings?.samples ?? []) samples.set(s.reflector, s.age_s);
          judged.push({ nowS: tickNowS, startS, samples });
        }
        // Lines still in the pipe after the last tick are read now.
        await realSleep(300);
        let checked = 0;
        for (const tick of judged) {
          for (const ip of PEERS) {
            // The newest reply the kernel had before the tick began.
            const before = replies.filter((r) => r.reflector === ip && r.receiveTimeS < tick.startS)
              .reduce((a, r) => Math.max(a, r.receiveTimeS), -Infinity);
            if (tick.startS - before >= 2 * settings.tick_interval) continue; // fping was late
            const age = tick.samples.get(ip);
            assert(age !== undefined, `${ip} not fresh at a tick though it replied before it`);
            const usedS = tick.nowS - age;
            assert(
              usedS >= before - SLACK_S,
              `${ip}: judged a reply ${(before - usedS).toFixed(3)} s older than the newest ` +
                "printed before the tick began (its line unread at the judgement)",
            );
            checked++;
          }
        }
        // Most peers' replies were checked (a starved fping may skip a few).
        assert(checked >= TICKS * PEERS.length / 2, `only ${checked} judgements checked`);
        assertEquals(replies.every((r) => Number.isFinite(r.receiveTimeS)), true);
      } finally {
        await pinger.stop();
        await counters.close();
      }
    }),
});
