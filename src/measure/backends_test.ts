import { assertEquals, assertRejects } from "../util/assert.ts";
import {
  choosePinger,
  fpingArgs,
  fpingFeaturesFromVersion,
  pingArgs,
  tspingArgs,
} from "./backends.ts";

const F51 = fpingFeaturesFromVersion("fping: Version 5.1\n");
const F53 = fpingFeaturesFromVersion("fping: Version 5.3");

Deno.test("fping version → features", () => {
  assertEquals(F51, { version: [5, 1], icmpTimestamp: false, fwmark: false });
  assertEquals(F53, { version: [5, 3], icmpTimestamp: true, fwmark: true });
  assertEquals(fpingFeaturesFromVersion("fping: Version 5.2").fwmark, true);
  assertEquals(fpingFeaturesFromVersion("fping: Version 6.0").icmpTimestamp, true);
  assertEquals(fpingFeaturesFromVersion("garbage"), { icmpTimestamp: false, fwmark: false });
});

Deno.test("fping args: pace from tick, timestamps and fwmark only when supported", () => {
  const ips = ["1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4", "5.5.5.5"];
  assertEquals(fpingArgs(ips, { tickS: 0.5, mode: "echo", features: F51 }), {
    args: [
      "--timestamp",
      "--loop",
      "--period",
      "500",
      "--interval",
      "100",
      "--timeout",
      "10000",
      ...ips,
    ],
    unsupported: [],
  });
  const ts = fpingArgs(["1.1.1.1"], {
    tickS: 0.5,
    mode: "timestamp",
    features: F53,
    iface: "wan",
    source: "192.0.2.1",
    fwmark: 7,
  });
  assertEquals(ts.args.slice(8), [
    "--icmp-timestamp",
    "--iface",
    "wan",
    "--src",
    "192.0.2.1",
    "--fwmark=7",
    "1.1.1.1",
  ]);
  const old = fpingArgs(["1.1.1.1"], { tickS: 0.5, mode: "timestamp", features: F51, fwmark: 7 });
  assertEquals(old.unsupported.length, 2);
  assertEquals(old.args.includes("--icmp-timestamp"), false);
});

Deno.test("ping args: one reflector, -I interface or source, -m fwmark", () => {
  assertEquals(pingArgs("9.9.9.9", { tickS: 0.5 }).args, ["-D", "-n", "-i", "0.5", "9.9.9.9"]);
  assertEquals(
    pingArgs("9.9.9.9", { tickS: 0.25, source: "10.0.0.2", fwmark: 3 }).args,
    ["-D", "-n", "-i", "0.25", "-I", "10.0.0.2", "-m", "3", "9.9.9.9"],
  );
  const both = pingArgs("9.9.9.9", { tickS: 0.5, iface: "wan2", source: "10.0.0.2" });
  assertEquals(both.args, ["-D", "-n", "-i", "0.5", "-I", "wan2", "9.9.9.9"]);
  assertEquals(both.unsupported.length, 1);
});

Deno.test("tsping args: spacing for many targets, sleep for one, echo flag, iface/fwmark", () => {
  assertEquals(tspingArgs(["1.1.1.1", "2.2.2.2"], { tickS: 0.5, mode: "timestamp" }).args, [
    "--print-timestamps",
    "--machine-readable=,",
    "--icmp-ts",
    "--sleep-time=0",
    "--target-spacing=250",
    "1.1.1.1",
    "2.2.2.2",
  ]);
  const one = tspingArgs(["1.1.1.1"], {
    tickS: 0.5,
    mode: "echo",
    iface: "wan",
    fwmark: 9,
    source: "x",
  });
  assertEquals(one.args, [
    "--print-timestamps",
    "--machine-readable=,",
    "--icmp-echo",
    "--sleep-time=500",
    "--target-spacing=0",
    "--interface=wan",
    "--fw-mark=9",
    "1.1.1.1",
  ]);
  assertEquals(one.unsupported.length, 1);
});

Deno.test("choosePinger: auto order, explicit tool, binary override, prefix, none found", async () => {
  const available = new Set(["fping", "ping"]);
  const calls: string[] = [];
  const probe = (cmd: string, args: readonly string[]) => {
    calls.push([cmd, ...args].join(" "));
    const bin = cmd === "ip" ? args[3] : cmd;
    if (!available.has(bin)) return Promise.resolve(undefined);
    return Promise.resolve(bin === "fping" ? "fping: Version 5.1" : "ping from iputils");
  };
  assertEquals(await choosePinger("auto", { probe }), {
    tool: "fping",
    binary: "fping",
    fping: F51,
  });
  assertEquals(calls, ["tsping --version", "fping -v"]);
  assertEquals((await choosePinger("ping", { probe })).tool, "ping");
  available.add("/opt/bin/tsping");
  assertEquals(await choosePinger("auto", { probe, binary: "/opt/bin/tsping" }), {
    tool: "tsping",
    binary: "/opt/bin/tsping",
  });
  calls.length = 0;
  await choosePinger("fping", { probe, commandPrefix: ["ip", "netns", "exec", "ns1"] });
  assertEquals(calls, ["ip netns exec ns1 fping -v"]);
  await assertRejects(() => choosePinger("tsping", { probe }), Error);
  await assertRejects(() => choosePinger("auto", { probe, binary: "/opt/x" }), Error);
});

Deno.test("choosePinger on this machine finds an installed tool and fping's version", async () => {
  const c = await choosePinger("auto");
  assertEquals(["tsping", "fping", "ping"].includes(c.tool), true);
  const f = await choosePinger("fping");
  const v = new TextDecoder().decode(
    (await new Deno.Command("fping", { args: ["-v"] }).output()).stdout,
  );
  assertEquals(f.fping?.version?.join("."), /Version (\d+\.\d+)/.exec(v)?.[1]);
});
