/**
 * Runs the fping and ping backends inside a private network namespace (root only): several
 * addresses that exist only there answer, a routed but dead one never does.
 */
import { assert, assertEquals } from "../util/assert.ts";
import { systemClock } from "../util/clock.ts";
import { type BindOptions, choosePinger } from "./backends.ts";
import { ProcessPinger } from "./pinger.ts";
import type { PingerTool, PingReply } from "./types.ts";
import {
  addLoopbackHosts,
  addSilentRoute,
  must,
  needs,
  netnsSkipReason,
  withNetns,
} from "../util/netns_testing.ts";

const LIVE = ["10.213.0.1", "10.213.0.2", "10.213.7.9"];
const DEAD = "10.213.9.9";

/** A namespace where LIVE answer on lo and DEAD is routed out of a veth nobody answers on. */
function withNetnsHosts(fn: (name: string) => Promise<void>): Promise<void> {
  return withNetns("sqma-meas", async (name) => {
    await addLoopbackHosts(name, LIVE);
    await addSilentRoute(name, "10.213.9.0/24");
    await fn(name);
  });
}

async function collect(
  tool: PingerTool,
  ns: string,
  bind: BindOptions,
  waitMs = 5000,
): Promise<PingReply[]> {
  const prefix = ["ip", "netns", "exec", ns];
  const choice = await choosePinger(tool, { commandPrefix: prefix });
  const got: PingReply[] = [];
  const p = new ProcessPinger({
    tool,
    binary: choice.binary,
    fping: choice.fping,
    tickS: 0.1,
    clock: systemClock,
    commandPrefix: prefix,
    ...bind,
    onReply: (r) => got.push(r),
  });
  await p.start([...LIVE, DEAD]);
  try {
    const end = Date.now() + waitMs;
    // wait until every live address answered at least 3 times
    while (!LIVE.every((a) => got.filter((r) => r.reflector === a).length >= 3)) {
      if (Date.now() > end) break;
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await p.stop();
  }
  return got;
}

const CASES: [PingerTool, BindOptions][] = [
  ["fping", {}],
  ["ping", {}],
  // multi-WAN options: bound to the namespace's lo, from one of its addresses, with a mark
  ["fping", { iface: "lo", source: "10.213.0.2" }],
  ["ping", { source: "10.213.0.2", fwmark: 5 }],
  ["ping", { iface: "lo" }],
];

const reason = await netnsSkipReason();

for (const [tool, bind] of CASES) {
  const label = Object.keys(bind).length ? ` with ${JSON.stringify(bind)}` : "";
  const name = `netns: ${tool}${label} gets replies from every live address, none from a dead one`;
  Deno.test(needs(name, reason), async () => {
    await withNetnsHosts(async (ns) => {
      const got = await collect(tool, ns, bind);
      for (const a of LIVE) {
        const n = got.filter((r) => r.reflector === a).length;
        assert(n >= 3, `${tool}: only ${n} replies from ${a}`);
      }
      assertEquals(got.filter((r) => r.reflector === DEAD).length, 0);
      assert(got.every((r) => r.rttMs >= 0 && r.upMs === r.rttMs / 2));
    });
  });
}

Deno.test(
  needs("netns: binding to the wrong interface really takes effect (no replies)", reason),
  async () => {
    await withNetnsHosts(async (ns) => {
      for (const tool of ["fping", "ping"] as const) {
        const got = await collect(tool, ns, { iface: "v0" }, 1200);
        assertEquals(got.length, 0, `${tool} bound to v0 still got ${got.length} replies`);
      }
    });
  },
);

Deno.test(needs("netns: namespaces are cleaned up", reason), async () => {
  const names = (await must("ip", ["netns", "list"])).split("\n").map((l) => l.split(" ")[0]);
  assert(!names.includes(`sqma-meas-${Deno.pid}`), names.join(", "));
});
