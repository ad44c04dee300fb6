import { assert, assertEquals } from "../util/assert.ts";
import { createOwdState } from "../baseline/owd_state.ts";
import { collectDeltas } from "../control/deltas.ts";
import type { OwdState } from "../control/ports.ts";
import { seededRandom } from "../util/clock.ts";
import { cycleProbes, drawsApart, MAX_DRAW_PERIOD_S } from "./cycle_budget.ts";
import { AWAITED_TICKS, type PeerProbes, ReflectorSelector } from "./selector.ts";
import { CHILD_JITTER_PROBES, MAX_PROBES_PER_S } from "./short_pool.ts";

const TICK = 0.5;
const ips = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** The selector these tests drive: 5 of `pool`, a 15 min reselection time, a seeded draw. */
function selectorOver(
  owd: ReturnType<typeof createOwdState>,
  o: {
    pool: readonly string[];
    seed: number;
    tickS?: number;
    onPeers?: (peers: readonly string[], phase: string, probes: PeerProbes) => void;
    startDelayS?: number;
  },
): ReflectorSelector {
  return new ReflectorSelector({
    owd,
    pool: o.pool,
    numReflectors: 5,
    tickS: o.tickS ?? TICK,
    peerReselectionTimeMin: 15,
    random: seededRandom(o.seed),
    onPeers: o.onPeers,
    startDelayS: o.startDelayS === undefined ? undefined : () => o.startDelayS!,
  });
}

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

Deno.test("selector: a cycle over a pool of 300 probes its draws apart within 20/s, longer, and awaits the new peers (v86)", () => {
  const pool = ips("r", 300);
  const before = pool.slice(0, 5);
  const owd = createOwdState(before);
  const published: { peers: readonly string[]; phase: string; probes: PeerProbes }[] = [];
  const selector = selectorOver(owd, {
    pool,
    seed: 3,
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
  // Only the new peers count, each awaited for AWAITED_TICKS.
  assertEquals(owd.peers, selected);
  assertEquals(
    [...(owd.awaitedUntilS ?? new Map())],
    selected.map((ip) => [ip, endS + AWAITED_TICKS * TICK]),
  );
});

Deno.test("drawsApart: one budget for every cycle whose draws go apart, with each child's rounding and the 4 s cap (v86, continued)", () => {
  // Four kept peers of a short pool at 0.4 s (10/s) and a watch of six (2/s): three children.
  const draws = ips("d", 6);
  const short = drawsApart(draws, { tickS: TICK, otherPerS: 12, otherChildren: 2 });
  assertEquals(short.slow.periodS, 6 / 5);
  assertEquals(short.windowS, TICK * Math.PI + 6 / 5);
  assertEquals(
    drawsApart(ips("d", 2), { tickS: TICK, otherPerS: 10, otherChildren: 1 }).slow
      .periodS,
    TICK,
    "at most once a tick",
  );
  // Kept peers that alone fill the 20/s (3 at 0.12 s: 25/s).
  assertEquals(
    drawsApart(draws, { tickS: 0.2, otherPerS: 25, otherChildren: 1 }).slow.periodS,
    MAX_DRAW_PERIOD_S,
  );
});

Deno.test("selector: a short pool's cycle at tick 0.2 keeps its draws within 4 s and probes each before it ranks (v86, continued)", () => {
  const tickS = 0.2;
  const pool = ips("r", 10);
  const alive = new Set(pool.slice(0, 3));
  const owd = createOwdState(pool.slice(0, 6));
  const published: { t: number; peers: readonly string[]; phase: string; probes: PeerProbes }[] =
    [];
  let now = 0;
  let probed: readonly string[] = owd.peers;
  const selector = selectorOver(owd, {
    pool,
    seed: 5,
    tickS,
    onPeers: (peers, phase, probes) => {
      probed = peers;
      published.push({ t: now, peers, phase, probes });
    },
  });
  selector.start(0);
  for (; now <= 120; now = Math.round((now + 0.05) * 100) / 100) {
    for (const ip of probed) {
      if (alive.has(ip)) owd.recent.set(ip, { up_ewma: 5, down_ewma: 5, last_receive_time_s: now });
    }
    if (Math.abs(now / tickS - Math.round(now / tickS)) < 1e-9) selector.requestReselect("short");
    selector.step(now);
  }
  const shortCycles = published.filter((p, i) =>
    p.phase === "candidates" && p.probes.slow !== undefined && i > 0 &&
    published[i - 1].phase === "selected" && published[i - 1].probes.periodS < tickS
  );
  assert(shortCycles.length >= 2, published.map((p) => `${p.t} ${p.phase}`).join("\n"));
  for (const c of shortCycles) {
    const periodS = c.probes.slow!.periodS;
    assert(periodS <= MAX_DRAW_PERIOD_S, `${periodS} s at ${c.t}`);
    // The cycle ranks after its draws' period: each draw was probed.
    const end = published.find((p) => p.t > c.t && p.phase === "selected")!;
    assert(end.t >= c.t + periodS, `${c.t} → ${end.t}, draws every ${periodS} s`);
  }
});

Deno.test("selector: after a cycle with draws apart, a selected peer that answers late (ping's spread start, fping's restart) is awaited, not missing, for 3 ticks", () => {
  // A pool like the netns tests' 12: the peers and the draws at the tick exceed 20/s.
  const pool = ips("r", 16);
  const before = pool.slice(0, 5);
  const owd = createOwdState(before);
  const answer = (ip: string, o: { atS: number; rtt: number }) => {
    const half = { up_ewma: o.rtt / 2, down_ewma: o.rtt / 2, last_receive_time_s: o.atS };
    owd.baseline.set(ip, { ...half });
    owd.recent.set(ip, { ...half });
  };
  const selector = selectorOver(owd, { pool, seed: 5 });
  selector.start(0);
  selector.requestReselect("test");
  selector.step(TICK * Math.PI);
  const candidates = owd.peers;
  assert(candidates.length / TICK > MAX_PROBES_PER_S, `${candidates.length} candidates`);
  const endS = selector.nextWakeS;
  // The peers answered a tick ago at the latest, each draw (faster: drawn into the new set) most
  // of its draw period ago.
  for (const ip of candidates) {
    const peer = before.includes(ip);
    answer(ip, { atS: peer ? endS - 0.1 : endS - 0.8, rtt: peer ? 12 : 8 });
  }
  selector.step(endS);
  const chosen = owd.peers;
  const [restarted, ...kept] = chosen.filter((ip) => before.includes(ip));
  const [dead, ...late] = chosen.filter((ip) => !before.includes(ip));
  assert(restarted !== undefined && late.length > 0, `kept ${restarted}, new ${dead} ${late}`);
  // Kept peers answer every tick but one, which fping's child restarted for the new set probes
  // last; the new ones' processes (started over the tick from the switch, slow under load)
  // answer 1.2 s after it too, but one never does.
  const tooFewAt = (t: number): boolean => {
    for (const ip of kept) answer(ip, { atS: t - 0.05, rtt: 12 });
    if (t >= endS + 1.2) {
      for (const ip of [restarted, ...late]) answer(ip, { atS: endS + 1.2, rtt: 8 });
    }
    selector.step(t);
    return collectDeltas(owd, t, { tickInterval: TICK }).tooFew;
  };
  const ticks = [1, 2, 3, 4, 5].map((k) => endS + k * TICK);
  // Awaited until AWAITED_TICKS after the switch; the dead one is missing from then on.
  assertEquals(AWAITED_TICKS, 3);
  assertEquals(ticks.map(tooFewAt), [false, false, true, true, true]);
});

/** A reply of `ip` at `atS` in `owd`, its baseline and recent EWMAs alike (5 ms each way). */
function answerIn(owd: OwdState): (ip: string, atS: number) => void {
  return (ip, atS) => {
    const half = { up_ewma: 5, down_ewma: 5, last_receive_time_s: atS };
    owd.baseline.set(ip, { ...half });
    owd.recent.set(ip, { ...half });
  };
}

Deno.test("selector: a pinger whose children start 1.2 s late: the new peers are awaited that much longer (ping started over the tick, then 1.2 s late)", () => {
  const run = (startDelayS: number): boolean[] => {
    const pool = ips("r", 16);
    const before = pool.slice(0, 5);
    const owd = createOwdState(before);
    const answer = answerIn(owd);
    const selector = selectorOver(owd, { pool, seed: 5, startDelayS });
    selector.start(0);
    selector.requestReselect("test");
    selector.step(TICK * Math.PI);
    const endS = selector.nextWakeS;
    for (const ip of owd.peers) answer(ip, endS - 0.1);
    selector.step(endS);
    const kept = owd.peers.filter((ip) => before.includes(ip));
    const fresh = owd.peers.filter((ip) => !before.includes(ip));
    assert(fresh.length >= 3, `new ${fresh}`);
    // Kept peers' processes run on; each new one starts up to a tick after the switch (spread),
    // then 1.2 s late, and answers from then on.
    return [1, 2, 3, 4, 5, 6].map((k) => {
      const t = endS + k * TICK;
      for (const ip of kept) answer(ip, t - 0.05);
      if (t >= endS + 1.7) { for (const ip of fresh) answer(ip, t - 0.05); }
      selector.step(t);
      return collectDeltas(owd, t, { tickInterval: TICK }).tooFew;
    });
  };
  // Awaited for AWAITED_TICKS only, they count missing at the third tick (1.5 s).
  assertEquals(run(0), [false, false, true, false, false, false]);
  assertEquals(run(1.2), [false, false, false, false, false, false]);
});

Deno.test("selector: a pinger whose children start 1.2 s late: a cycle probes that much longer, so that its last candidates answer within it", () => {
  const run = (startDelayS: number): number => {
    // A pool of 10: the 5 peers and 5 draws at the tick send 20/s, one child.
    const pool = ips("r", 10);
    const owd = createOwdState(pool.slice(0, 5));
    const answer = answerIn(owd);
    const selector = selectorOver(owd, { pool, seed: 5, startDelayS });
    selector.start(0);
    const beginS = TICK * Math.PI;
    selector.requestReselect("test");
    selector.step(beginS);
    const candidates = owd.peers;
    assertEquals(candidates.length, 10);
    // fping restarted for the candidates starts 1.2 s late and probes them a tenth of a tick
    // apart; each answers at once. Counted: those whose first answer came within the cycle.
    let answered = 0;
    for (let round = 0; selector.phase === "probing"; round++) {
      for (const [k, ip] of candidates.entries()) {
        const t = beginS + 1.2 + round * TICK + (k * TICK) / 10;
        selector.step(t);
        if (selector.phase !== "probing") break;
        answer(ip, t);
        if (round === 0) answered++;
      }
    }
    return answered;
  };
  // The window counted from the spawn (tick × π) ends before the last two are probed.
  assertEquals(run(0), 8);
  assertEquals(run(1.2), 10);
});

Deno.test("selector: a pinger whose children start 1.2 s late: a cycle whose candidates fit in one child, and its selection, await the peers across fping's restart", () => {
  const run = (startDelayS: number): boolean[] => {
    // A pool of 10: the 5 peers and 5 draws at the tick send 20/s, one child.
    const pool = ips("r", 10);
    const before = pool.slice(0, 5);
    const owd = createOwdState(before);
    const answer = answerIn(owd);
    const selector = selectorOver(owd, { pool, seed: 5, startDelayS });
    selector.start(0);
    const beginS = TICK * Math.PI;
    for (const ip of before) answer(ip, beginS - 0.1);
    selector.requestReselect("test");
    selector.step(beginS);
    const candidates = owd.peers;
    assertEquals(candidates.length, 10);
    // fping restarted for the candidates answers from 1.2 s after the switch on, every tick.
    const tooFew: boolean[] = [];
    const tickAt = (t: number, since: number, set: readonly string[]) => {
      if (t >= since + 1.2) { for (const ip of set) answer(ip, t - 0.05); }
      selector.step(t);
      tooFew.push(collectDeltas(owd, t, { tickInterval: TICK }).tooFew);
    };
    const endS = selector.nextWakeS;
    for (let t = beginS + TICK; t < endS; t += TICK) tickAt(t, beginS, candidates);
    selector.step(endS);
    assertEquals(selector.phase, "idle");
    // Restarted again for the selected peers.
    const chosen = owd.peers;
    for (let k = 1; k <= 4; k++) tickAt(endS + k * TICK, endS, chosen);
    return tooFew;
  };
  // Without awaiting, the peers went stale behind each restart: an outage a tick before the
  // child's first replies, in the cycle and after its selection.
  assertEquals(run(0), [false, true, false, false, true, false, false]);
  // The cycle lasts 1.2 s longer (its window counts from the child's start): two more ticks.
  assertEquals(run(1.2), Array(9).fill(false));
});

Deno.test("selector: after a cycle with draws apart in which nothing answered, the peers it keeps are not awaited: the outage goes on", () => {
  const pool = ips("r", 16);
  const before = pool.slice(0, 5);
  const owd = createOwdState(before);
  for (const ip of before) {
    // Each answered before the cycle, not during it (an uplink gone).
    const half = { up_ewma: 5, down_ewma: 5, last_receive_time_s: 1 };
    owd.baseline.set(ip, { ...half });
    owd.recent.set(ip, { ...half });
  }
  const selector = selectorOver(owd, { pool, seed: 5 });
  selector.start(0);
  selector.requestReselect("only 0 fresh reflectors", { tooFewFresh: true });
  selector.step(TICK * Math.PI);
  assert(owd.peers.length / TICK > MAX_PROBES_PER_S, `${owd.peers.length} candidates`);
  // Fresh at the cycle's start (0.57 s old), silent since: one window more (`#lookAgain`).
  selector.step(selector.nextWakeS);
  assertEquals(selector.phase, "probing");
  const endS = selector.nextWakeS;
  selector.step(endS);
  assertEquals(selector.quietCycles, 1);
  assertEquals([...owd.peers].sort(), before);
  assertEquals(owd.awaitedUntilS?.size ?? 0, 0);
  assert(collectDeltas(owd, endS + TICK, { tickInterval: TICK }).tooFew);
});
