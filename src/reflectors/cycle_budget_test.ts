import { assert, assertEquals } from "../util/assert.ts";
import { createOwdState } from "../baseline/owd_state.ts";
import { seededRandom } from "../util/clock.ts";
import { cycleProbes, MAX_DRAW_PERIOD_S } from "./cycle_budget.ts";
import { type PeerProbes, ReflectorSelector } from "./selector.ts";
import { CHILD_JITTER_PROBES, MAX_PROBES_PER_S } from "./short_pool.ts";

const TICK = 0.5;
const ips = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

Deno.test("cycleProbes: candidates that fit in 20/s at the tick are probed as upstream's cycle", () => {
  const peers = ips("p", 5);
  assertEquals(cycleProbes([...peers, ...ips("d", 5)], { peers, tickS: TICK }), {
    periodS: TICK,
    windowS: TICK * Math.PI,
  });
  // Eleven would be 22/s: the draws go apart.
  const plan = cycleProbes([...peers, ...ips("d", 6)], { peers, tickS: TICK });
  assertEquals(plan.slow?.periodS, 6 / 8);
});

Deno.test("cycleProbes: the embedded list's 6 peers and 20 draws send 20/s, not 52 (v86)", () => {
  const peers = ips("p", 6);
  const draws = ips("d", 20);
  const plan = cycleProbes([...peers, ...draws], { peers, tickS: TICK });
  assertEquals(plan.periodS, TICK);
  assertEquals(plan.slow?.reflectors, draws);
  const perS = peers.length / plan.periodS + draws.length / plan.slow!.periodS;
  // Each child may send one more than its rate in a 1 s window (fping's interval rounding).
  assert(perS + 2 * CHILD_JITTER_PROBES <= MAX_PROBES_PER_S, `${perS} probes/s`);
  assertEquals(plan.slow!.periodS, 20 / 6);
  // The draws' first round ends before the tick × π of the cycle does.
  assertEquals(plan.windowS, TICK * Math.PI + plan.slow!.periodS);
});

Deno.test("cycleProbes: a tick whose peers alone fill the 20/s keeps the cycle short (v86)", () => {
  // 5 peers at 0.2 s already send 25/s: the draws' rest would be 1/s, a 15 s cycle.
  const peers = ips("p", 5);
  const plan = cycleProbes([...peers, ...ips("d", 15)], { peers, tickS: 0.2 });
  assertEquals(plan.slow?.periodS, MAX_DRAW_PERIOD_S);
  assertEquals(plan.windowS, 0.2 * Math.PI + MAX_DRAW_PERIOD_S);
});

Deno.test("selector: a cycle over a pool of 300 probes its draws apart within 20/s, longer, and hands over to the new peers (v86)", () => {
  const pool = ips("r", 300);
  const before = pool.slice(0, 5);
  const owd = createOwdState(before);
  const published: { peers: readonly string[]; phase: string; probes: PeerProbes }[] = [];
  const selector = new ReflectorSelector({
    owd,
    pool,
    numReflectors: 5,
    tickS: TICK,
    peerReselectionTimeMin: 15,
    random: seededRandom(3),
    onPeers: (peers, phase, probes) => published.push({ peers, phase, probes }),
  });
  const settle = TICK * Math.PI;
  selector.start(0);
  selector.requestReselect("test");
  selector.step(settle);
  assertEquals(selector.phase, "probing");
  const { peers: candidates, probes } = published.at(-1)!;
  assert(candidates.length > 20, `${candidates.length} candidates`);
  // The peers keep the tick in their child; the draws go apart.
  assertEquals(probes.periodS, TICK);
  assertEquals(probes.slow?.reflectors, candidates.filter((ip) => !before.includes(ip)));
  const perS = before.length / TICK + probes.slow!.reflectors.length / probes.slow!.periodS;
  assert(perS + 2 * CHILD_JITTER_PROBES <= MAX_PROBES_PER_S, `${perS} probes/s`);
  // Every candidate answers once; the cycle waits for the draws' first round.
  for (const ip of candidates) {
    owd.recent.set(ip, { up_ewma: 5, down_ewma: 5, last_receive_time_s: settle + 1 });
  }
  const endS = settle + settle + probes.slow!.periodS;
  selector.step(endS - 0.01);
  assertEquals(selector.phase, "probing");
  selector.step(endS);
  assertEquals(selector.phase, "idle");
  const selected = published.at(-1)!.peers;
  assertEquals(selected.length, 5);
  // The candidates count beside the new peers for 2 ticks, then only the new ones.
  assertEquals(new Set(owd.peers), new Set(candidates));
  assertEquals(selector.nextWakeS, endS + 2 * TICK);
  selector.step(endS + 2 * TICK);
  assertEquals(owd.peers, selected);
});
