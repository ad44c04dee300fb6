/**
 * The testbed's router shapers in real namespaces with real `tc`: `htb-icmp` serves ICMP ahead of
 * the bulk FIFO that a download fills, `htb` queues it behind (docs/e2e.md, "Topology"). Needs
 * root, iproute2, fping and iperf3, as e2e_test.ts.
 */
import { assert, assertEquals } from "../../src/util/assert.ts";
import { needs } from "../../src/util/netns_testing.ts";
import { median } from "../../src/util/stats.ts";
import { runAsync } from "./cmd.ts";
import { runIperfClient, startIperfServer, waitIperfServer } from "./scenario.ts";
import {
  ADDR,
  daemonShaper,
  htbRateKbit,
  IFACE,
  netnsUnavailableReason,
  type ShaperKind,
  shaperKind,
  Testbed,
} from "./testbed.ts";

Deno.test("htbRateKbit reads a class's rate from tc's text", () => {
  const text = "class htb 1:10 parent 1:1 prio 0 rate 1Mbit ceil 2Gbit burst 1600b cburst 64Kb \n" +
    "class htb 1:1 root rate 150500Kbit ceil 150500Kbit burst 1600b cburst 1600b \n";
  assertEquals(htbRateKbit(text, "1:1"), 150_500);
  assertEquals(htbRateKbit(text, "1:10"), 1000);
  assertEquals(htbRateKbit(text, "1:20"), undefined);
  assertEquals(htbRateKbit("class htb 1:1 root rate 2Gbit ceil 2Gbit ", "1:1"), 2_000_000);
});

Deno.test("daemonShaper: htb and htb-icmp are an HTB class (tbf's bucket, refilled at each rate change, is not)", () => {
  // sim:e2e simulates the daemon's shaper by it (docs/controllers.md, "v80"): with tbf a backlog
  // leaves a burst above the rate after each change, with HTB's 1600-byte burst it does not.
  assertEquals(daemonShaper("tbf"), "tbf");
  assertEquals(daemonShaper("htb"), "htb");
  assertEquals(daemonShaper("htb-icmp"), "htb");
});

Deno.test("shaperKind: tbf by default, the three kinds, nothing else", () => {
  assertEquals(shaperKind(undefined), "tbf");
  assertEquals(shaperKind("htb-icmp"), "htb-icmp");
  let threw = false;
  try {
    shaperKind("cake");
  } catch {
    threw = true;
  }
  assert(threw, "cake is not a testbed shaper");
});

/** Router download rate while the test loads it, kbit/s (the ISP's 20 Mbit/s is not reached). */
const ROUTER_KBIT = 4000;

/**
 * Builds a testbed with `shaper`, loads the download through it for 5 s and returns the probe's
 * median RTT (ms) and the router's download backlog (bytes) in the middle of the load.
 */
async function probeUnderLoad(
  shaper: ShaperKind,
): Promise<{ rttMs: number; backlog: number; icmpPackets: number }> {
  const tb = Testbed.create({
    shaper,
    ispDownKbit: 20_000,
    ispUpKbit: 10_000,
    ispBufferMs: 300,
    routerBufferMs: 20,
    routerDownKbit: 20_000,
    routerUpKbit: 10_000,
    namePrefix: "sqmatb-",
  });
  try {
    // The daemon's view: class 1:1 carries the rate, read back as set.
    tb.setRouterRate("down", ROUTER_KBIT);
    assertEquals(Math.round(tb.routerRate("down")), ROUTER_KBIT);
    startIperfServer(tb);
    await waitIperfServer(tb);
    const load = runIperfClient(tb, { reverse: true, port: 5201, streams: 4, seconds: 5 });
    await new Promise((r) => setTimeout(r, 1500));
    // 20 probes 100 ms apart, while the router's bulk FIFO is full (20 ms at the ISP's 20 Mbit/s,
    // 100 ms at the router's 4 Mbit/s).
    const [ping, q] = await Promise.all([
      runAsync(tb.exec(tb.ns.client, ["fping", "-C", "20", "-p", "100", "-q", ADDR.probe]), {
        timeoutMs: 10_000,
      }),
      (async () => {
        await new Promise((r) => setTimeout(r, 1000));
        return runAsync(
          tb.exec(tb.ns.router, ["tc", "-s", "-j", "qdisc", "show", "dev", IFACE.routerLan]),
          { timeoutMs: 3000 },
        );
      })(),
    ]);
    await load;
    const rtts = (ping.stderr.split(":")[1] ?? "").trim().split(/\s+/).map(Number)
      .filter((x) => Number.isFinite(x));
    assert(rtts.length >= 15, `fping answered ${rtts.length} of 20: ${ping.stderr}`);
    const rows = JSON.parse(q.stdout) as { root?: boolean; backlog?: number }[];
    const cls = await runAsync(
      tb.exec(tb.ns.router, ["tc", "-s", "class", "show", "dev", IFACE.routerLan]),
      { timeoutMs: 3000 },
    );
    const icmp = /class htb 1:10 [^\n]*\n\s*Sent \d+ bytes (\d+) pkt/.exec(cls.stdout);
    return {
      rttMs: median(rtts),
      backlog: rows.find((r) => r.root)?.backlog ?? NaN,
      icmpPackets: Number(icmp?.[1] ?? 0),
    };
  } finally {
    tb.destroy();
  }
}

const reason = netnsUnavailableReason();

Deno.test({
  ...needs(
    "testbed: htb-icmp serves the probes ahead of the full router FIFO; htb does not",
    reason,
  ),
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const fifo = await probeUnderLoad("htb");
  const icmp = await probeUnderLoad("htb-icmp");
  const msg = `htb ${JSON.stringify(fifo)}, htb-icmp ${JSON.stringify(icmp)}`;
  console.log(msg);
  // Both FIFOs stand full (bfifo of 50 kB: 100 ms at 4 Mbit/s); only htb's probes wait in it.
  assert(fifo.backlog > 20_000 && icmp.backlog > 20_000, `the router FIFO was not full: ${msg}`);
  assert(fifo.rttMs > 40, `htb's probes should wait in the FIFO: ${msg}`);
  assert(icmp.rttMs < 15, `htb-icmp's probes should skip it: ${msg}`);
  assert(icmp.icmpPackets >= 20, `ICMP should go to class 1:10: ${msg}`);
});
