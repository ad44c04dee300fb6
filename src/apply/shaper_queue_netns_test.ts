/**
 * Real `tc` in a throw-away network namespace: what the shapers' start-up check learns of their
 * queues (this kernel has the FIFO qdiscs; the fq ones are covered by shaper_queue_test.ts).
 */
import { assertEquals } from "../util/assert.ts";
import { createShaper } from "./shaper.ts";
import { addVethPair, must, needs, netnsSkipReason, withNetns } from "../util/netns_testing.ts";

const reason = await netnsSkipReason();

/** `tc -n NS ARGS…` split on spaces. */
async function tc(ns: string, args: string): Promise<void> {
  await must("tc", ["-n", ns, ...args.split(" ")]);
}

Deno.test({
  ...needs("real tc: tbf and htb report a FIFO, with its size when tc shows it", reason),
  fn: () =>
    withNetns("sqma-queue", async (ns) => {
      await addVethPair(ns, "va", "vb");
      await tc(ns, "qdisc add dev va root handle 1: tbf rate 10mbit burst 5000 latency 20ms");
      const tbf = createShaper("tbf", "va", { netns: ns });
      await tbf.check();
      assertEquals(tbf.queue, {
        isolating: false,
        leaves: ["bfifo"],
        fifo: { latencyS: 0.02, bytes: 5000, burstS: 0.005 },
      });
      await tc(ns, "qdisc add dev va parent 1: handle 10: bfifo limit 30000");
      await tbf.check();
      assertEquals(tbf.queue, {
        isolating: false,
        leaves: ["bfifo"],
        fifo: { latencyS: 0, bytes: 30000 },
      });

      // The e2e testbed's HTB: class 1:1 with a bfifo leaf; then a second leaf with none.
      await tc(ns, "qdisc add dev vb root handle 1: htb default 1");
      await tc(ns, "class add dev vb parent 1: classid 1:1 htb rate 20mbit ceil 20mbit");
      await tc(ns, "qdisc add dev vb parent 1:1 handle 10: bfifo limit 50000");
      const htb = createShaper("htb", "vb", { netns: ns, htbClassid: "1:1" });
      await htb.check();
      assertEquals(htb.queue, {
        isolating: false,
        leaves: ["bfifo"],
        fifo: { latencyS: 0, bytes: 50000 },
      });
      await tc(ns, "qdisc del dev vb root");
      await tc(ns, "qdisc add dev vb root handle 1: htb default 11");
      await tc(ns, "class add dev vb parent 1: classid 1:1 htb rate 20mbit ceil 20mbit");
      await tc(ns, "class add dev vb parent 1:1 classid 1:10 htb rate 10mbit ceil 20mbit");
      await tc(ns, "class add dev vb parent 1:1 classid 1:11 htb rate 10mbit ceil 20mbit");
      await tc(ns, "qdisc add dev vb parent 1:10 handle 10: bfifo limit 50000");
      await htb.check();
      assertEquals(htb.queue, { isolating: false, leaves: ["bfifo", "pfifo"] });
    }),
});
