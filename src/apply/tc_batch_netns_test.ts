/**
 * The tc coprocess against real `tc` in a throw-away network namespace: 100 rate changes of a
 * TBF pair go down one `tc -batch` process (spawns counted), tc's message for a failing line.
 */
import { assert, assertEquals } from "../util/assert.ts";
import { defaultCommandRunner } from "../util/command.ts";
import { denoSpawner, type ProcessSpawner } from "../util/coprocess.ts";
import { createShaperPair, ShaperError } from "./shaper.ts";
import { TcBatch } from "./tc_batch.ts";
import { addTbfVethPair, must, needs, netnsSkipReason, withNetns } from "../util/netns_testing.ts";

const reason = await netnsSkipReason();

/** A batch on `ns`'s tc that counts the coprocesses it starts and the changes it spawns alone. */
function countingBatch(ns: string, options: { changesPerProcess?: number } = {}) {
  const count = { spawns: 0, runs: 0 };
  const spawn: ProcessSpawner = (argv) => {
    count.spawns++;
    return denoSpawner(argv);
  };
  const batch = new TcBatch({
    command: ["tc", "-n", ns],
    spawn,
    runner: (binary, args) => {
      count.runs++;
      return defaultCommandRunner(binary, args);
    },
    changesPerProcess: options.changesPerProcess,
  });
  return { batch, count };
}

Deno.test({
  ...needs(
    "real tc -batch: 100 TBF changes through one process, a bad line reports tc's message",
    reason,
  ),
  fn: () =>
    withNetns("sqma-tcbatch", async (ns) => {
      await addTbfVethPair(ns, "vdl", "vul");
      // 201 changes in one process: the replacement every changesPerProcess (100 by default since
      // the twenty-fifth session) is the next test's.
      const { batch, count } = countingBatch(ns, { changesPerProcess: 500 });
      const settings = { shaper: "tbf" as const, dl_if: "vdl", ul_if: "vul", htb_classid: "1:1" };
      const pair = createShaperPair(settings, { netns: ns, batch });
      try {
        // Start-up reads the qdiscs with one tc each; from then on nothing is spawned.
        await pair.dl.check();
        await pair.ul.check();
        for (let i = 1; i <= 100; i++) {
          await pair.dl.setRate(10_000 + i * 100);
          await pair.ul.setRate(5_000 + i * 50);
        }
        assertEquals(count, { spawns: 1, runs: 0 });
        assertEquals(await pair.dl.readRate!(), 20_000);
        assertEquals(await pair.ul.readRate!(), 10_000);

        const missing = createShaperPair({ ...settings, dl_if: "nope" }, { netns: ns, batch });
        let error: unknown;
        try {
          await missing.dl.setRate(1000);
        } catch (e) {
          error = e;
        }
        assert(error instanceof ShaperError, String(error));
        assert(/Cannot find device "nope"/.test(error.stderr), error.stderr);
        await pair.ul.setRate(7_000);
        assertEquals(await pair.ul.readRate!(), 7_000);
        assertEquals(count.spawns, 1, "a failing line does not cost the coprocess");
      } finally {
        await pair.close?.();
      }
    }),
});

Deno.test({
  ...needs("real tc -batch: replaced by a fresh process every changesPerProcess changes", reason),
  fn: () =>
    withNetns("sqma-tcrenew", async (ns) => {
      await addTbfVethPair(ns, "vdl", "vul");
      const { batch, count } = countingBatch(ns, { changesPerProcess: 50 });
      const settings = { shaper: "tbf" as const, dl_if: "vdl", ul_if: "vul", htb_classid: "1:1" };
      const pair = createShaperPair(settings, { netns: ns, batch });
      try {
        await pair.dl.check();
        for (let i = 1; i <= 120; i++) {
          await pair.dl.setRate(10_000 + i * 100);
          // Every change is in place when its promise resolves, across the replacements too.
          if (i % 50 <= 1) assertEquals(await pair.dl.readRate!(), 10_000 + i * 100);
        }
        assertEquals(count, { spawns: 3, runs: 0 });
      } finally {
        await pair.close?.();
      }
    }),
});

Deno.test({
  ...needs(
    "real tc -batch: an IFB deleted and created again (new root handle) takes the next change",
    reason,
  ),
  fn: () =>
    withNetns("sqma-tcifb", async (ns) => {
      const addIfb = async () => {
        await must("ip", ["-n", ns, "link", "add", "ifbt", "type", "ifb"]);
        await must("ip", ["-n", ns, "link", "set", "ifbt", "up"]);
        await must("tc", [
          ...["-n", ns, "qdisc", "add", "dev", "ifbt", "root"],
          ...["tbf", "rate", "1mbit", "burst", "10kb", "latency", "20ms"],
        ]);
      };
      await addIfb();
      await addTbfVethPair(ns, "vdl", "vul");
      const { batch, count } = countingBatch(ns);
      const settings = { shaper: "tbf" as const, dl_if: "ifbt", ul_if: "vul", htb_classid: "1:1" };
      const pair = createShaperPair(settings, { netns: ns, batch });
      try {
        await pair.dl.check();
        await pair.dl.setRate(20_000);
        await pair.ul.setRate(5_000);
        // sqm-scripts restarting: the IFB goes and comes back with a new TBF (new handle).
        await must("ip", ["-n", ns, "link", "del", "ifbt"]);
        await addIfb();
        // The coprocess still has the old device's index ("No such device"): it is replaced.
        await pair.dl.setRate(30_000);
        assertEquals(await pair.dl.readRate!(), 30_000);
        await pair.ul.setRate(6_000);
        await pair.dl.setRate(31_000);
        assertEquals(await pair.dl.readRate!(), 31_000);
        assertEquals(count.spawns, 2, "one replacement of the coprocess");
      } finally {
        await pair.close?.();
      }
    }),
});
