/**
 * The daemon against real `tc` and `ip` in a throw-away network namespace: TBF on both ends of
 * a veth pair, real counters through the ip coprocess, a fake measurement, real timers.
 */
import { assert, assertEquals } from "../util/assert.ts";
import { ExitCode } from "../util/exit_codes.ts";
import { needs, netnsSkipReason, withNetns } from "../util/netns_testing.ts";
import { withDaemonNetns } from "./netns_fixture.ts";

const reason = await netnsSkipReason();

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test({
  ...needs("daemon in a netns: min → 60 % of base → exit rate on real TBF qdiscs", reason),
  fn: () =>
    withNetns("sqma-daemon", (ns) =>
      withDaemonNetns(ns, {}, async (d) => {
        const seen: number[] = [];
        // The minimum while measuring the first baselines.
        d.onMeasurementStart = async () => void seen.push((await d.tbf("vdl")).rateKbit);
        const daemon = d.start();
        // Wait (bounded) until control has started from 60 % of base, then read the rates.
        for (let i = 0; i < 100 && (await d.tbf("vdl")).rateKbit <= 10000; i++) await pause(50);
        seen.push((await d.tbf("vdl")).rateKbit, (await d.tbf("vul")).rateKbit);
        assertEquals(await daemon.stop(), ExitCode.OK);
        seen.push((await d.tbf("vdl")).rateKbit, (await d.tbf("vul")).rateKbit);
        assertEquals(seen, [10000, 30000, 6000, 50000, 10000]);
      })),
});

Deno.test({
  ...needs(
    "daemon in a netns: a plugin returning 1e300 kbit/s is clamped; exit rate applies",
    reason,
  ),
  fn: () =>
    withNetns("sqma-clamp", (ns) =>
      withDaemonNetns(ns, { max_ul_rate: 12000 }, async (d) => {
        const daemon = d.start({
          adjusters: [{
            name: "wild",
            adjust: () => ({ next_dl_rate: 1e300, next_ul_rate: 10_000_000 }),
          }],
        });
        let dl = await d.tbf("vdl");
        for (let i = 0; i < 100 && dl.rateKbit <= 30000; i++) {
          await pause(50); // start-up: minimum, settle, baselines, 60 % of base, first tick
          dl = await d.tbf("vdl");
        }
        const ul = await d.tbf("vul");
        // 10 × base without a max setting, the max setting with one.
        assertEquals([dl.rateKbit, ul.rateKbit], [500000, 12000]);
        assertEquals(await daemon.stop(), ExitCode.OK);
        const after = await d.tbf("vdl");
        assertEquals(after.rateKbit, 50000);
        // 5 ms at the highest rate ever set: the burst never shrinks, so it stays bounded too.
        assert(after.burst <= 500000 * 125 * 0.005 + 1, `burst ${after.burst}`);
      })),
});

Deno.test({
  ...needs(
    "daemon in a netns: a root qdisc replaced by HTB is held, not re-created; TBF back resumes",
    reason,
  ),
  fn: () =>
    withNetns("sqma-swap", (ns) =>
      withDaemonNetns(ns, {}, async (d) => {
        // A rate that changes every tick: tc is asked every tick, as under real load.
        let flip = 0;
        const daemon = d.start({
          adjusters: [{ name: "flip", adjust: () => ({ next_dl_rate: 20000 + (flip ^= 1) }) }],
        });
        const until = async (ok: () => Promise<boolean>, what: string) => {
          for (let i = 0; !(await ok()); i++) {
            if (i > 200) throw new Error(`timed out waiting for ${what}`);
            await pause(50);
          }
        };
        await until(async () => (await d.tbf("vdl")).rateKbit >= 20000, "control");
        await d.tc([
          "qdisc",
          "replace",
          "dev",
          "vdl",
          "root",
          "handle",
          "1:",
          "htb",
          "default",
          "1",
        ]);
        await pause(1000); // ten ticks
        assertEquals((await d.tbf("vdl")).kind, "htb");
        await d.tc([
          ...["qdisc", "replace", "dev", "vdl", "root", "handle", "9:"],
          ...["tbf", "rate", "1mbit", "burst", "10kb", "latency", "20ms"],
        ]);
        await until(async () => (await d.tbf("vdl")).rateKbit >= 20000, "the rate on the new TBF");
        assertEquals(await daemon.stop(), ExitCode.OK);
        assertEquals(await d.tbf("vdl"), {
          kind: "tbf",
          rateKbit: 50000,
          burst: (await d.tbf("vdl")).burst,
        });
      })),
});
