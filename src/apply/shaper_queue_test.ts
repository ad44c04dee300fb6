/**
 * Flow isolation read from `tc` output: fixture text of sqm-scripts' setups (this kernel has no
 * fq_codel; shaper_queue_netns_test.ts runs the FIFO cases on real tc).
 */
import { assert, assertEquals } from "../util/assert.ts";
import {
  describeShaperQueues,
  dlCarriesProbes,
  htbQueue,
  shaperQueues,
  tbfQueue,
} from "./shaper_queue.ts";

const TBF_ROOT = {
  kind: "tbf",
  handle: "1:",
  root: true,
  refcnt: 2,
  options: { rate: 2500000, burst: 12500, lat: 300000 },
};
const INGRESS = { kind: "ingress", handle: "ffff:", parent: "ffff:fff1", options: {} };
const fqCodel = (handle: string, parent: string) => ({
  kind: "fq_codel",
  handle,
  parent,
  options: { limit: 10240, flows: 1024, quantum: 1514, target: 4999, interval: 99999 },
});
const htbRoot = (defaultHex: string) => ({
  kind: "htb",
  handle: "1:",
  root: true,
  refcnt: 2,
  options: { r2q: 10, default: defaultHex, direct_packets_stat: 0, direct_qlen: 32 },
});

Deno.test("shaper queue: tbf with an fq_codel child (sqm-scripts' simplest_tbf.qos) isolates flows", () => {
  const q = tbfQueue([TBF_ROOT, fqCodel("110:", "1:")]);
  assertEquals(q, { isolating: true, leaves: ["fq_codel"] });
});

Deno.test("shaper queue: a plain tbf is one FIFO of rate × latency + burst", () => {
  assertEquals(tbfQueue([TBF_ROOT, INGRESS]), {
    isolating: false,
    leaves: ["bfifo"],
    fifo: { latencyS: 0.3, bytes: 12500 },
  });
  // The daemon's TbfShaper raises the burst with the rate: that part of the delay is kept too.
  assertEquals(tbfQueue([TBF_ROOT], { burstS: 0.005 }).fifo, {
    latencyS: 0.3,
    bytes: 12500,
    burstS: 0.005,
  });
  for (const kind of ["fq", "fq_pie", "sfq", "cake"]) {
    assert(tbfQueue([TBF_ROOT, { kind, handle: "10:", parent: "1:" }]).isolating, kind);
  }
  const bfifo = { kind: "bfifo", handle: "10:", parent: "1:", options: { limit: 30000 } };
  assertEquals(tbfQueue([TBF_ROOT, bfifo]).fifo, { latencyS: 0, bytes: 30000 });
  assertEquals(tbfQueue([TBF_ROOT, { kind: "pfifo", handle: "10:", parent: "1:" }]), {
    isolating: false,
    leaves: ["pfifo"],
  });
});

Deno.test("shaper queue: htb with one fq_codel leaf (sqm-scripts' simplest.qos) isolates flows", () => {
  const classText = [
    "class htb 1:10 parent 1:1 leaf 110: prio 0 rate 20Mbit ceil 20Mbit burst 1600b cburst 1600b",
    "class htb 1:1 root rate 20Mbit ceil 20Mbit burst 1600b cburst 1600b",
    "",
  ].join("\n");
  const q = htbQueue([htbRoot("0x10"), fqCodel("110:", "1:10"), INGRESS], {
    classText,
    classid: "1:1",
  });
  assertEquals(q, { isolating: true, leaves: ["fq_codel"] });
});

Deno.test("shaper queue: htb with three fq_codel tiers and an unfed class without a qdisc (simple.qos)", () => {
  const classText = [
    "class htb 1:11 parent 1:1 leaf 110: prio 1 rate 32Kbit ceil 6666Kbit",
    "class htb 1:10 parent 1:1 prio 0 rate 20Mbit ceil 20Mbit",
    "class htb 1:1 root rate 20Mbit ceil 20Mbit",
    "class htb 1:12 parent 1:1 leaf 120: prio 2 rate 3333Kbit ceil 19984Kbit",
    "class htb 1:13 parent 1:1 leaf 130: prio 3 rate 3333Kbit ceil 19984Kbit",
  ].join("\n");
  const qdiscs = [
    htbRoot("0x12"),
    fqCodel("110:", "1:11"),
    fqCodel("120:", "1:12"),
    fqCodel("130:", "1:13"),
  ];
  const q = htbQueue(qdiscs, { classText, classid: "1:1" });
  assertEquals(q, { isolating: true, leaves: ["fq_codel", "fq_codel", "fq_codel"] });
  // With the qdisc-less class as the default one, unclassified traffic waits in its pfifo.
  const viaDefault = htbQueue([htbRoot("0x10"), ...qdiscs.slice(1)], { classText, classid: "1:1" });
  assertEquals(viaDefault.isolating, false);
  assert(viaDefault.leaves.includes("pfifo"));
});

Deno.test("shaper queue: htb leaves without an fq qdisc are a FIFO; one bfifo leaf has a size", () => {
  const classText = "class htb 1:1 root leaf 10: prio 0 rate 20Mbit ceil 20Mbit\n";
  const bfifo = { kind: "bfifo", handle: "10:", parent: "1:1", options: { limit: 50000 } };
  assertEquals(htbQueue([htbRoot("0x1"), bfifo], { classText, classid: "1:1" }), {
    isolating: false,
    leaves: ["bfifo"],
    fifo: { latencyS: 0, bytes: 50000 },
  });
  // No leaf qdisc at all: HTB's built-in pfifo, whose size in bytes is unknown.
  assertEquals(htbQueue([htbRoot("0x1")], { classText, classid: "1:1" }), {
    isolating: false,
    leaves: ["pfifo"],
  });
});

Deno.test("shaper queue: the download carries the probes on an IFB; capacity warns without a known FIFO", () => {
  const fifo = { isolating: false, leaves: ["pfifo"] };
  const sized = { ...fifo, fifo: { latencyS: 0.02, bytes: 3200 } };
  const q = shaperQueues(
    { dl: { queue: fifo }, ul: { queue: sized } },
    dlCarriesProbes({ ifname: "ifb4eth0" }),
  );
  assertEquals(q.dlCarriesProbes, true);
  assertEquals(
    shaperQueues({ dl: {}, ul: {} }, dlCarriesProbes({ ifname: "br-lan" })).dlCarriesProbes,
    false,
  );
  const d = describeShaperQueues(q, "capacity");
  assert(d.warn);
  assert(d.message.includes("download one FIFO (pfifo), carrying the daemon's probes"), d.message);
  assertEquals(describeShaperQueues(q, "ewma").warn, false);
  assertEquals(describeShaperQueues({ ...q, dl: sized }, "capacity").warn, false);
  assertEquals(describeShaperQueues({ ...q, dlCarriesProbes: false }, "capacity").warn, false);
  // How the IFB was told, when the caller says.
  assert(
    describeShaperQueues(q, "capacity", { probesBy: "link kind" }).message.includes(
      "carrying the daemon's probes (an IFB by its link kind); upload",
    ),
  );
  assert(
    describeShaperQueues({ ...q, dlCarriesProbes: false }, "ewma", { probesBy: "name" }).message
      .includes(
        "download one FIFO (pfifo), not carrying the daemon's probes (not an IFB by its name)",
      ),
  );
});
