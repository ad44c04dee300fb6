/**
 * The link kind read from `ip -d -j link show` output (fixtures trimmed from iproute2's), and the
 * download-carries-probes decision it feeds: by kind when it is known, else by name.
 */
import { assertEquals } from "../util/assert.ts";
import type { CommandResult, CommandRunner } from "../util/command.ts";
import { readLinkKind } from "./link_kind.ts";
import { dlCarriesProbes, shaperQueues } from "./shaper_queue.ts";

/** A runner that answers every command with `r` and records the argument lists. */
function fake(r: Partial<CommandResult>): CommandRunner & { calls: string[][] } {
  const calls: string[][] = [];
  const run = (binary: string, args: readonly string[]) => {
    calls.push([binary, ...args]);
    return Promise.resolve({ code: 0, stdout: "", stderr: "", ...r });
  };
  return Object.assign(run, { calls });
}

const link = (ifname: string, linkinfo?: Record<string, unknown>) =>
  JSON.stringify([{
    ifindex: 7,
    ifname,
    flags: ["BROADCAST", "NOARP", "UP", "LOWER_UP"],
    mtu: 1500,
    qdisc: "cake",
    ...(linkinfo === undefined ? {} : { linkinfo }),
  }]);

Deno.test("link kind: an IFB with any name is an IFB; an ifb-named veth is not", async () => {
  const ifb = fake({ stdout: link("wan-in", { info_kind: "ifb" }) });
  const kind = await readLinkKind("wan-in", { runner: ifb });
  assertEquals(kind, "ifb");
  assertEquals(ifb.calls, [["ip", "-d", "-j", "link", "show", "dev", "wan-in"]]);
  assertEquals(dlCarriesProbes({ ifname: "wan-in", kind }), { carries: true, by: "link kind" });
  assertEquals(
    shaperQueues({ dl: {}, ul: {} }, dlCarriesProbes({ ifname: "wan-in", kind })).dlCarriesProbes,
    true,
  );

  const veth = fake({ stdout: link("ifb4wan", { info_kind: "veth" }) });
  const vkind = await readLinkKind("ifb4wan", { runner: veth, netns: "ns1", ipPath: "/sbin/ip" });
  assertEquals(vkind, "veth");
  assertEquals(veth.calls[0].slice(0, 3), ["/sbin/ip", "-n", "ns1"]);
  assertEquals(dlCarriesProbes({ ifname: "ifb4wan", kind: vkind }), {
    carries: false,
    by: "link kind",
  });
  // A physical NIC has no linkinfo: read, and not an IFB.
  const nic = await readLinkKind("ifbeth", { runner: fake({ stdout: link("ifbeth") }) });
  assertEquals(nic, "");
  assertEquals(dlCarriesProbes({ ifname: "ifbeth", kind: nic }).carries, false);
});

Deno.test("link kind: unreadable (no -j, ip failing, another device) falls back to the name", async () => {
  const busybox = fake({ code: 1, stderr: "ip: invalid option -- 'j'" });
  const unreadable = [
    await readLinkKind("ifb4wan", { runner: busybox }),
    await readLinkKind("ifb4wan", { runner: fake({ stdout: "7: ifb4wan: <UP> mtu 1500" }) }),
    await readLinkKind("ifb4wan", { runner: fake({ stdout: link("wan", { info_kind: "ifb" }) }) }),
    await readLinkKind("ifb4wan", { runner: fake({ stdout: "[]" }) }),
  ];
  assertEquals(unreadable, [undefined, undefined, undefined, undefined]);
  assertEquals(dlCarriesProbes({ ifname: "ifb4wan" }), { carries: true, by: "name" });
  assertEquals(dlCarriesProbes({ ifname: "wan-in" }), { carries: false, by: "name" });
});
