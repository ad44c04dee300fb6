/**
 * Real `ip` in a throw-away network namespace: the link kind tells an IFB whatever its name,
 * and a veth named like sqm-scripts' IFB is not one.
 */
import { assertEquals } from "../util/assert.ts";
import { readLinkKind } from "./link_kind.ts";
import { dlCarriesProbes } from "./shaper_queue.ts";
import { must, needs, netnsSkipReason, sh, withNetns } from "../util/netns_testing.ts";

const reason = await netnsSkipReason();

/** Why an IFB cannot be made here (a kernel without the ifb driver), or undefined. */
async function ifbSkipReason(): Promise<string | undefined> {
  if (reason !== undefined) return reason;
  return await withNetns("sqma-ifbprobe", async (ns) => {
    const r = await sh("ip", ["-n", ns, "link", "add", "probe0", "type", "ifb"]);
    return r.ok ? undefined : `no ifb support in this kernel: ${r.err.trim()}`;
  });
}

const ifbReason = await ifbSkipReason();

Deno.test({
  ...needs("real ip: a veth named ifb4wan is told by its kind, not its name", reason),
  fn: () =>
    withNetns("sqma-linkkind", async (ns) => {
      await must("ip", [
        "-n",
        ns,
        "link",
        "add",
        "ifb4wan",
        "type",
        "veth",
        "peer",
        "name",
        "lan0",
      ]);
      const kind = await readLinkKind("ifb4wan", { netns: ns });
      assertEquals(kind, "veth");
      assertEquals(dlCarriesProbes({ ifname: "ifb4wan", kind }), {
        carries: false,
        by: "link kind",
      });
      assertEquals(await readLinkKind("lo", { netns: ns }), "");
      assertEquals(await readLinkKind("missing0", { netns: ns }), undefined);
    }),
});

Deno.test({
  ...needs("real ip: an IFB with a custom name carries the probes", ifbReason),
  fn: () =>
    withNetns("sqma-ifbkind", async (ns) => {
      await must("ip", ["-n", ns, "link", "add", "wan-in", "type", "ifb"]);
      const kind = await readLinkKind("wan-in", { netns: ns });
      assertEquals(kind, "ifb");
      assertEquals(dlCarriesProbes({ ifname: "wan-in", kind }), { carries: true, by: "link kind" });
    }),
});
