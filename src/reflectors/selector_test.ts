import { assert, assertEquals } from "../util/assert.ts";
import { Baseliner } from "../baseline/baseliner.ts";
import { createOwdState } from "../baseline/owd_state.ts";
import type { OwdState } from "../control/ports.ts";
import { seededRandom, VirtualClock } from "../util/clock.ts";
import type { LogRecord } from "../log/logger.ts";
import { configureLogging, resetLogging } from "../log/mod.ts";
import {
  buildCandidates,
  fisherYates,
  type PeerProbes,
  rankCandidates,
  ReflectorSelector,
  SelectorRunner,
  type TimerApi,
} from "./selector.ts";

const TICK = 0.5;
const SETTLE = TICK * Math.PI;

function sequence(values: number[]) {
  let i = 0;
  return () => values[i++ % values.length];
}

Deno.test("buildCandidates: peers first, then new draws in draw order", () => {
  const pool = ["a", "b", "c", "d"];
  // draws: index 1 (b, already a peer), 3 (d), 3 (d again), 2 (c)
  const r = sequence([0.3, 0.8, 0.9, 0.6]);
  assertEquals(buildCandidates(["x", "b"], pool, 4, r), ["x", "b", "d", "c"]);
  assertEquals(buildCandidates(["x"], [], 4, r), ["x"]);
});

Deno.test("rankCandidates: float up+down, skips unknown, stable, keeps the fastest", () => {
  const owd = createOwdState();
  const set = (ip: string, up: number, down: number) =>
    owd.recent.set(ip, { up_ewma: up, down_ewma: down, last_receive_time_s: 0 });
  set("a", 5.6, 5); // 10.6
  set("b", 5.2, 5); // 10.2: Rust's integer truncation would tie with a
  set("c", 1, 1);
  set("d", 1, 1);
  assertEquals(rankCandidates(["a", "b", "none", "d", "c"], owd, 3), ["d", "c", "b"]);
});

Deno.test("fisherYates: swaps i with floor(r·(i+1)) from the end", () => {
  // i=3: r=0 → j=0; i=2: r=0.99 → j=2; i=1: r=0.5 → j=1
  assertEquals(fisherYates([1, 2, 3, 4], sequence([0, 0.99, 0.5])), [4, 2, 3, 1]);
});

interface World {
  clock: VirtualClock;
  owd: OwdState;
  selector: ReflectorSelector;
  baseliner: Baseliner;
  published: { t: number; peers: readonly string[]; phase: string }[];
}

function world(
  pool: string[],
  peers: string[],
  numReflectors = 3,
  avoid?: (ip: string) => boolean,
  prefer?: (ip: string) => boolean,
): World {
  const clock = new VirtualClock(0);
  const owd = createOwdState(peers);
  const published: World["published"] = [];
  const selector = new ReflectorSelector({
    owd,
    pool,
    numReflectors,
    tickS: TICK,
    peerReselectionTimeMin: 15,
    random: seededRandom(7),
    onPeers: (p, phase) => published.push({ t: clock.monotonicS(), peers: p, phase }),
    avoid,
    prefer,
  });
  const baseliner = new Baseliner(owd, { tickS: TICK, reselect: selector });
  return { clock, owd, selector, baseliner, published };
}

/** Runs ticks: every peer that `rtt` knows answers with rtt/2 each way. */
function run(w: World, untilS: number, rtt: (ip: string, t: number) => number | undefined) {
  while (w.clock.monotonicS() < untilS) {
    const t = w.clock.monotonicS();
    for (const ip of w.owd.peers) {
      const v = rtt(ip, t);
      if (v !== undefined) {
        w.baseliner.ingest({ reflector: ip, upMs: v / 2, downMs: v / 2, receiveTimeS: t });
      }
    }
    w.selector.step(t);
    w.clock.advance(0.05);
  }
}

Deno.test("timing: settle tick×π, 30 s timer, 40 cycles, then peer_reselection_time", () => {
  const w = world(["p1", "p2", "p3", "p4"], ["p1", "p2"]);
  w.selector.start(0);
  assertEquals(w.selector.phase, "settling");
  assertEquals(w.selector.step(1), SETTLE);
  assertEquals(w.selector.step(SETTLE), SETTLE + 30);
  assertEquals(w.selector.phase, "idle");
  assertEquals(w.published.length, 0);
  // first cycle at settle + 30
  w.selector.step(SETTLE + 30);
  assertEquals(w.selector.phase, "probing");
  assertEquals(w.selector.reselectionCount, 1);
  assertEquals(w.published[0].phase, "candidates");
  assertEquals(w.published[0].peers.slice(0, 2), ["p1", "p2"]);
  let t = SETTLE + 30;
  for (let cycle = 1; cycle <= 41; cycle++) {
    for (const ip of w.owd.peers) {
      w.owd.recent.set(ip, { up_ewma: 1, down_ewma: 1, last_receive_time_s: t });
    }
    t += SETTLE;
    const next = w.selector.step(t);
    assertEquals(w.selector.phase, "idle");
    const expectedSleep = cycle > 40 ? 15 * 60 : 30;
    assertEquals(next, t + expectedSleep, `cycle ${cycle}`);
    t = next;
    w.selector.step(t);
  }
  assertEquals(w.selector.reselectionCount, 42);
});

Deno.test("suspended (idle mode): no cycle while nothing is pinged, a due one runs after resume", () => {
  const records: LogRecord[] = [];
  configureLogging("INFO", { sink: (r) => void records.push(r) });
  try {
    const w = world(["p1", "p2", "p3", "p4"], ["p1", "p2", "p3"]);
    w.selector.start(0);
    const answer = (ip: string) => ip === "p4" ? undefined : 10;
    run(w, 40, answer); // the first cycle at settle + 30 s
    assertEquals(w.selector.reselectionCount, 1);
    w.selector.suspend();
    w.selector.requestReselect("only 0 fresh reflectors"); // the loop sees no replies
    run(w, 300, () => undefined); // nothing answers: the pinger is stopped
    assertEquals(w.selector.reselectionCount, 1, "no cycle while suspended");
    assertEquals(w.selector.nextWakeS, Infinity);
    w.selector.resume(300);
    assertEquals(w.selector.nextWakeS, 300 + SETTLE, "the pending request, one settle later");
    run(w, 310, answer);
    assertEquals(w.selector.reselectionCount, 2);
    const text = records.map((r) => r.rawMessage).join("\n");
    assert(!/No reflector answers|Only \d+ reflectors answer/.test(text), text);
  } finally {
    resetLogging();
  }
});

Deno.test("suspended while probing: the cycle gets a fresh window for answers after resume", () => {
  const w = world(["p1", "p2", "p3", "p4"], ["p1", "p2", "p3"]);
  w.selector.start(0);
  w.selector.step(SETTLE + 30); // a cycle starts: probing
  assertEquals(w.selector.phase, "probing");
  w.selector.suspend();
  w.selector.step(500);
  assertEquals(w.selector.phase, "probing", "nothing judged while suspended");
  w.selector.resume(500);
  for (const ip of w.owd.peers) {
    w.owd.recent.set(ip, { up_ewma: 1, down_ewma: 1, last_receive_time_s: 501 });
  }
  w.selector.step(500 + SETTLE);
  assertEquals(w.selector.phase, "idle");
  assertEquals(w.owd.peers.length, 3, "answers after resume count");
});

Deno.test("requests: coalesced, start a cycle at once, wait for settling", () => {
  const w = world(["p1", "p2", "p3", "p4"], ["p1"]);
  w.selector.start(0);
  w.selector.requestReselect("one");
  w.selector.requestReselect("two");
  assertEquals(w.selector.step(1), SETTLE); // still settling
  w.selector.step(SETTLE);
  assertEquals(w.selector.phase, "probing");
  assertEquals(w.selector.reselectionCount, 1);
  // a request during probing gives exactly one more cycle right after this one
  w.selector.requestReselect("three");
  w.selector.requestReselect("four");
  for (const ip of w.owd.peers) {
    w.owd.recent.set(ip, { up_ewma: 1, down_ewma: 1, last_receive_time_s: 2 });
  }
  w.selector.step(2 * SETTLE);
  assertEquals(w.selector.phase, "probing");
  assertEquals(w.selector.reselectionCount, 2);
  w.selector.step(3 * SETTLE);
  assertEquals(w.selector.phase, "idle");
  assertEquals(w.selector.reselectionCount, 2);
  w.selector.stop();
  w.selector.requestReselect("ignored");
  assertEquals(w.selector.nextWakeS, Infinity);
});

Deno.test("fewer candidates with data than num_reflectors limits this cycle only", () => {
  const w = world(["a", "b", "c", "d", "e", "f", "g"], ["a"], 3);
  w.selector.start(0);
  w.selector.requestReselect("go");
  w.selector.step(SETTLE);
  // only one candidate gets data
  w.owd.recent.set("a", { up_ewma: 1, down_ewma: 1, last_receive_time_s: 3 });
  w.selector.step(2 * SETTLE);
  assertEquals(w.owd.peers, ["a"]);
  // the next cycle waits 5 s after a short one (v76); enough data again → back to 3
  w.selector.requestReselect("again");
  w.selector.step(2 * SETTLE + 4.9);
  assertEquals(w.selector.phase, "idle");
  w.selector.step(2 * SETTLE + 5);
  for (const ip of w.owd.peers) {
    w.owd.recent.set(ip, { up_ewma: 1, down_ewma: 1, last_receive_time_s: 9 });
  }
  // A short pool's cycle probes its draws apart and waits one of their periods more (v86,
  // continued: `cycle_budget.ts`).
  assert(w.selector.nextWakeS > 3 * SETTLE + 5, String(w.selector.nextWakeS));
  w.selector.step(w.selector.nextWakeS);
  assertEquals(w.selector.phase, "idle");
  assertEquals(w.owd.peers.length, 3);
});

Deno.test("no candidate with data keeps the previous peers instead of an empty list", () => {
  const w = world(["a", "b"], ["x", "y"], 2);
  w.selector.start(0);
  w.selector.requestReselect("go");
  w.selector.step(SETTLE);
  w.selector.step(2 * SETTLE);
  assertEquals(w.owd.peers, ["x", "y"]);
});

Deno.test("virtual time: a silent initial peer is replaced by answering pool reflectors", () => {
  const pool = Array.from({ length: 30 }, (_, i) => `10.0.0.${i + 1}`);
  const w = world(pool, ["dead", "10.0.0.1", "10.0.0.2"], 3);
  w.selector.start(0);
  // each pool reflector answers with its own RTT; "dead" never answers
  const rtt = (ip: string) => ip === "dead" ? undefined : 10 + Number(ip.split(".")[3]);
  // 23 candidates: the draws are probed apart and the cycle lasts longer (v86, `cycle_budget.ts`).
  run(w, SETTLE + 30 + 8, rtt);
  assertEquals(w.selector.reselectionCount, 1);
  assert(!w.owd.peers.includes("dead"), `dead still selected: ${w.owd.peers}`);
  assertEquals(w.owd.peers.length, 3);
  // the picks are among the 2×3 fastest candidates that had data
  const last = w.published.filter((p) => p.phase === "candidates").at(-1)!.peers;
  const fastest = rankCandidates(last, w.owd, 6);
  assert(w.owd.peers.every((p) => fastest.includes(p)));
});

Deno.test("virtual time: a peer that stops answering is not drawn again (pool of 2 x num_reflectors)", () => {
  // With a pool of 6 and 3 peers every candidate is among the 2 x 3 kept: ranked by its recent
  // RTT of any age (Rust), the silent one, fastest before it stopped, was drawn again.
  const pool = ["a", "b", "c", "d", "e", "f"];
  const w = world(pool, ["a", "b", "c"], 3);
  w.selector.start(0);
  const rtt = (ip: string, t: number) => (ip === "a" && t >= 5 ? undefined : ip === "a" ? 5 : 20);
  run(w, SETTLE + 30, rtt);
  for (let k = 0; k < 10; k++) {
    w.selector.requestReselect("too few fresh");
    run(w, w.clock.monotonicS() + 2 * SETTLE, rtt);
    assert(!w.owd.peers.includes("a"), `cycle ${k}: the silent peer again: ${w.owd.peers}`);
    assertEquals(w.owd.peers.length, 3);
  }
});

Deno.test("virtual time: an outlier triggers a reselection at once and the reflector is dropped", () => {
  const pool = Array.from({ length: 30 }, (_, i) => `10.0.1.${i + 1}`);
  const w = world(pool, ["10.0.1.1", "10.0.1.2", "10.0.1.3"], 3);
  w.selector.start(0);
  const jumpAt = 10;
  const bad = "10.0.1.2";
  // `bad` becomes 8 s slower at t=10 (outlier), everyone else stays near 20 ms
  const rtt = (ip: string, t: number) =>
    ip === bad && t >= jumpAt ? 16_000 : 20 + Number(ip.split(".")[3]) / 10;
  run(w, jumpAt + 3 * SETTLE, rtt);
  const cycles = w.published.filter((p) => p.phase === "candidates");
  assertEquals(cycles.length, 1);
  assert(cycles[0].t >= jumpAt && cycles[0].t < jumpAt + 0.2, `cycle at ${cycles[0].t}`);
  assert(!w.owd.peers.includes(bad), `outlier still selected: ${w.owd.peers}`);
});

Deno.test("avoid: left out while enough others answered, drawn when too few did (v65)", () => {
  // A pool of 2 × num_reflectors: every candidate is among the 2 × 3 kept, so only `avoid` can
  // keep the three bad ones out.
  const pool = ["a", "b", "c", "d", "e", "f"];
  const bad = new Set(["a", "b", "c"]);
  const w = world(pool, ["a", "b", "c"], 3, (ip) => bad.has(ip));
  w.selector.start(0);
  const rtt = () => 20;
  run(w, SETTLE + 1, rtt);
  for (let k = 0; k < 10; k++) {
    w.selector.requestReselect("go");
    run(w, w.clock.monotonicS() + 2 * SETTLE, rtt);
    assertEquals([...w.owd.peers].sort(), ["d", "e", "f"], `cycle ${k}`);
  }
  // Only two sound reflectors answer: the cycle ranks every candidate, as without `avoid`.
  const fewer = (ip: string) => (ip === "f" ? undefined : 20);
  w.selector.requestReselect("go");
  run(w, w.clock.monotonicS() + 40 + 2 * SETTLE, fewer);
  assertEquals(w.owd.peers.length, 3);
  assert(w.owd.peers.some((ip) => bad.has(ip)), `${w.owd.peers}`);
});

Deno.test("avoided draws: not probed while enough others answer (v72a)", () => {
  // Pool of 2 × num_reflectors, three avoided: without the rule every cycle probes all six.
  const pool = ["a", "b", "c", "d", "e", "f"];
  const bad = new Set(["a", "b", "c"]);
  const w = world(pool, ["d", "e", "f"], 3, (ip) => bad.has(ip));
  w.selector.start(0);
  run(w, SETTLE + 1, () => 20);
  for (let k = 0; k < 5; k++) {
    w.selector.requestReselect("go");
    run(w, w.clock.monotonicS() + 2 * SETTLE, () => 20);
    assertEquals([...w.owd.peers].sort(), ["d", "e", "f"], `cycle ${k}`);
  }
  const probed = w.published.filter((p) => p.phase === "candidates").flatMap((p) => p.peers);
  assert(!probed.some((ip) => bad.has(ip)), `avoided ones probed: ${probed}`);
});

Deno.test("avoided draws: probed when too few others answer, dead ones never selected (v72a)", () => {
  // e and f stop answering; d is the only sound one left. Held back, the avoided ones would not
  // show that they answer, the cycle would rank every candidate and select e and f again (the
  // loop then asks at once: a cycle every tick × π).
  const pool = ["a", "b", "c", "d", "e", "f"];
  const bad = new Set(["a", "b", "c"]);
  const w = world(pool, ["d", "e", "f"], 3, (ip) => bad.has(ip));
  w.selector.start(0);
  const rtt = (ip: string, t: number) => ((ip === "e" || ip === "f") && t > 2 ? undefined : 20);
  run(w, SETTLE + 1, rtt);
  for (let k = 0; k < 5; k++) {
    w.selector.requestReselect("too few fresh");
    run(w, w.clock.monotonicS() + 3 * SETTLE, rtt);
    assertEquals(w.selector.phase, "idle", `cycle ${k}`);
    assert(!w.owd.peers.some((ip) => ip === "e" || ip === "f"), `cycle ${k}: ${w.owd.peers}`);
    assertEquals(w.owd.peers.length, 3);
  }
});

Deno.test("prefer: a draw takes the preferred reflectors first (v72c)", () => {
  // Pool of 2 × num_reflectors, all answering: without `prefer` the draws are the shuffle's and
  // take some of the three not preferred.
  const pool = ["a", "b", "c", "d", "e", "f"];
  const sound = new Set(["d", "e", "f"]);
  for (const withRule of [true, false]) {
    const w = world(
      pool,
      ["a", "b", "c"],
      3,
      undefined,
      withRule ? (ip) => sound.has(ip) : undefined,
    );
    w.selector.start(0);
    run(w, SETTLE + 1, () => 20);
    let others = 0;
    for (let k = 0; k < 10; k++) {
      w.selector.requestReselect("go");
      run(w, w.clock.monotonicS() + 2 * SETTLE, () => 20);
      assertEquals(w.owd.peers.length, 3);
      others += w.owd.peers.filter((ip) => !sound.has(ip)).length;
    }
    if (withRule) assertEquals(others, 0);
    else assert(others > 0);
  }
});

Deno.test("SelectorRunner: timer-driven and woken by requests (fake timers)", () => {
  const clock = new VirtualClock(0);
  const timers: { at: number; fn: () => void; id: number }[] = [];
  let nextId = 1;
  const api: TimerApi = {
    setTimeout: (fn, ms) => {
      const id = nextId++;
      timers.push({ at: clock.monotonicS() + ms / 1000, fn, id });
      return id;
    },
    clearTimeout: (id) => {
      const i = timers.findIndex((t) => t.id === id);
      if (i >= 0) timers.splice(i, 1);
    },
  };
  const fire = () => {
    timers.sort((a, b) => a.at - b.at);
    const t = timers.shift()!;
    clock.set(Math.max(clock.monotonicS(), t.at));
    t.fn();
  };
  const owd = createOwdState(["a"]);
  const selector = new ReflectorSelector({
    owd,
    pool: ["b", "c"],
    numReflectors: 1,
    tickS: TICK,
    peerReselectionTimeMin: 15,
    random: seededRandom(1),
  });
  const runner = new SelectorRunner(selector, { now: () => clock.monotonicS(), timers: api });
  runner.start();
  assertEquals(timers.length, 1);
  fire(); // settle done
  assertEquals(selector.phase, "idle");
  assertEquals(timers[0].at, SETTLE + 30);
  clock.advance(5);
  selector.requestReselect("test");
  assertEquals(timers.length, 1);
  assertEquals(timers[0].at, clock.monotonicS()); // woken now, not at the 30 s timer
  fire();
  assertEquals(selector.phase, "probing");
  runner.stop();
  assertEquals(timers.length, 0);
});

Deno.test("timed reselections after the first log their set at DEBUG, requested ones at INFO", () => {
  const records: LogRecord[] = [];
  configureLogging("INFO", { sink: (r) => void records.push(r) });
  try {
    const pool = Array.from({ length: 40 }, (_, i) => `r${i}`);
    const w = world(pool, ["r0", "r1", "r2"], 3);
    w.selector.start(0);
    // Ten minutes of timed cycles (every 30 s), each picking a new set from a pool of 40.
    run(w, 600, (ip) => 10 + Number(ip.slice(1)) % 7);
    assert(w.selector.reselectionCount >= 15, `${w.selector.reselectionCount} reselections`);
    const selected = () => records.filter((r) => /^Selected reflectors/.test(r.rawMessage));
    assertEquals(selected().length, 1, records.map((r) => r.rawMessage).join("\n"));
    w.selector.requestReselect("only 2 fresh reflectors");
    run(w, 610, (ip) => 10 + Number(ip.slice(1)) % 5);
    assertEquals(selected().length, 2, records.map((r) => r.rawMessage).join("\n"));
  } finally {
    resetLogging();
  }
});

Deno.test("the same set selected again is not logged at INFO (an outage with a pool of num_reflectors): the WARN names it once", () => {
  const records: LogRecord[] = [];
  configureLogging("INFO", { sink: (r) => void records.push(r) });
  try {
    const w = world(["a", "b", "c"], ["a", "b", "c"], 3);
    w.selector.start(0);
    run(w, 10, () => 20);
    // Nothing answers from 10 s on; the loop asks again and again.
    for (let t = 10; t < 60; t += 0.5) {
      w.selector.requestReselect("only 0 fresh reflectors");
      w.selector.step(t);
    }
    const selected = records.filter((r) => /^Selected reflectors/.test(r.rawMessage));
    const kept = records.filter((r) => /^No reflector answers; keeping/.test(r.rawMessage));
    // The first at 10 s, then 5, 10, 20 s apart (the wait while nothing answers); a set that
    // answered nothing is named by the WARN (and DEBUG after it), not as INFO "selected".
    assert(w.selector.reselectionCount >= 4, `${w.selector.reselectionCount} reselections`);
    assertEquals(
      [selected.length, kept.length],
      [0, 1],
      records.map((r) => r.rawMessage).join("\n"),
    );
  } finally {
    resetLogging();
  }
});

Deno.test("the loop's too-few-fresh requests during a cycle that answers one are folded into it; an outlier's stays pending", () => {
  const w = world(["p1", "p2", "p3", "p4"], ["p1"]);
  const answer = (t: number) => {
    for (const ip of w.owd.peers) {
      w.owd.recent.set(ip, { up_ewma: 1, down_ewma: 1, last_receive_time_s: t });
    }
  };
  w.selector.start(0);
  w.selector.requestReselect("only 1 fresh reflectors", { tooFewFresh: true });
  w.selector.step(SETTLE);
  assertEquals(w.selector.phase, "probing");
  // The loop asks on every tick of the outage while the cycle runs (docs/algorithm.md §8.2).
  for (let t = SETTLE + TICK; t < 2 * SETTLE; t += TICK) {
    w.selector.requestReselect("only 1 fresh reflectors", { tooFewFresh: true });
  }
  answer(2);
  w.selector.step(2 * SETTLE);
  assertEquals(w.selector.phase, "idle", "no second cycle right after the first");
  assertEquals(w.selector.reselectionCount, 1);
  // Still too few after the selection: the loop's next request starts a cycle at once.
  w.selector.requestReselect("only 2 fresh reflectors", { tooFewFresh: true });
  w.selector.step(2 * SETTLE + TICK);
  assertEquals(w.selector.reselectionCount, 2);
  // An outlier during it is not seen by the ranking: it gives one more cycle right after.
  w.selector.requestReselect("outlier from p1");
  w.selector.requestReselect("only 2 fresh reflectors", { tooFewFresh: true });
  answer(5);
  w.selector.step(3 * SETTLE + TICK);
  assertEquals(w.selector.phase, "probing");
  assertEquals(w.selector.reselectionCount, 3);
  // Nothing answers during it though its peers were fresh at its start: it probes one window
  // more before it decides (a probing hiccup, `#lookAgain`).
  w.selector.step(4 * SETTLE + TICK);
  assertEquals(w.selector.phase, "probing");
  w.selector.step(5 * SETTLE + TICK);
  assertEquals(w.selector.phase, "idle");
});

Deno.test("a too-few-fresh request during a timed cycle stays pending: that cycle may rank a peer that died during it", () => {
  const w = world(["p1", "p2", "p3", "p4"], ["p1"]);
  w.selector.start(0);
  w.selector.step(SETTLE);
  w.selector.step(SETTLE + 30); // the timer's first cycle
  assertEquals(w.selector.phase, "probing");
  w.selector.requestReselect("only 1 fresh reflectors", { tooFewFresh: true });
  for (const ip of w.owd.peers) {
    w.owd.recent.set(ip, { up_ewma: 1, down_ewma: 1, last_receive_time_s: 32 });
  }
  w.selector.step(2 * SETTLE + 30);
  assertEquals(w.selector.phase, "probing");
  assertEquals(w.selector.reselectionCount, 2);
});

Deno.test("the loop's too-few-fresh requests during a cycle it did not ask for publish its candidates again, unchanged (the pinger restarts a silent child); none outside a cycle, during its own, nor for an outlier", () => {
  const pool = Array.from({ length: 40 }, (_, i) => `r${i}`);
  const owd = createOwdState(pool.slice(0, 5));
  const published: { peers: readonly string[]; phase: string; probes: PeerProbes }[] = [];
  const selector = new ReflectorSelector({
    owd,
    pool,
    numReflectors: 5,
    tickS: TICK,
    peerReselectionTimeMin: 15,
    random: seededRandom(7),
    onPeers: (peers, phase, probes) => published.push({ peers, phase, probes }),
  });
  const answerAll = (t: number) => {
    for (const ip of owd.peers) {
      owd.recent.set(ip, { up_ewma: 1, down_ewma: 1, last_receive_time_s: t });
    }
  };
  selector.start(0);
  selector.step(SETTLE);
  // Outside a cycle a request only asks for one; during the loop's own cycle it is folded into it
  // (that cycle restarted a silent child as it began: `SILENT_KEPT_TICKS`).
  selector.requestReselect("only 4 fresh reflectors", { tooFewFresh: true });
  assertEquals(published.length, 0);
  selector.step(SETTLE);
  assertEquals(selector.phase, "probing");
  selector.requestReselect("only 3 fresh reflectors", { tooFewFresh: true });
  assertEquals(published.length, 1);
  answerAll(SETTLE + 1);
  const endS = selector.nextWakeS;
  selector.step(endS);
  assertEquals(published.map((p) => p.phase), ["candidates", "selected"]);
  // A cycle the loop did not ask for (an outlier's, the timer's).
  selector.requestReselect("outlier from r1");
  selector.step(endS + TICK);
  assertEquals(selector.phase, "probing");
  const cycle = published.at(-1)!;
  assertEquals(cycle.phase, "candidates");
  assert(cycle.probes.slow !== undefined, "the draws are probed apart");
  selector.requestReselect("outlier from r2");
  assertEquals(published.length, 3, "an outlier is not about silent reflectors");
  selector.requestReselect("only 3 fresh reflectors", { tooFewFresh: true });
  assertEquals(published.length, 4);
  assertEquals(published.at(-1), cycle, "the same set and plan: the pinger's same-set path");
  assertEquals(owd.peers, cycle.peers);
});

Deno.test("the loop's too-few-fresh requests folded into its own cycle ask the pinger to restart a kept child that fell silent (onStillTooFew); none outside a cycle, in another cycle, or while suspended", () => {
  const pool = Array.from({ length: 40 }, (_, i) => `r${i}`);
  const owd = createOwdState(pool.slice(0, 5));
  let asked = 0;
  const published: string[] = [];
  const selector = new ReflectorSelector({
    owd,
    pool,
    numReflectors: 5,
    tickS: TICK,
    peerReselectionTimeMin: 15,
    random: seededRandom(7),
    onPeers: (_peers, phase) => published.push(phase),
    onStillTooFew: () => asked++,
  });
  selector.start(0);
  selector.step(SETTLE);
  selector.requestReselect("only 4 fresh reflectors", { tooFewFresh: true });
  assertEquals(asked, 0, "outside a cycle: a request for one");
  selector.step(SETTLE);
  assertEquals(selector.phase, "probing");
  // Folded into the loop's own cycle: its peers' child may have hung since the cycle began.
  selector.requestReselect("only 3 fresh reflectors", { tooFewFresh: true });
  selector.requestReselect("only 2 fresh reflectors", { tooFewFresh: true });
  assertEquals(asked, 2);
  assertEquals(published, ["candidates"], "the candidates are not published again");
  selector.suspend();
  selector.requestReselect("only 2 fresh reflectors", { tooFewFresh: true });
  assertEquals(asked, 2, "suspended (idle mode): nothing is pinged");
  selector.resume(SETTLE + 1);
  selector.step(selector.nextWakeS);
  assertEquals(selector.phase, "idle");
  // A cycle the loop did not ask for publishes its candidates again instead (`#publishAgain`).
  selector.requestReselect("outlier from r1");
  selector.step(selector.nextWakeS);
  assertEquals(selector.phase, "probing");
  selector.requestReselect("only 3 fresh reflectors", { tooFewFresh: true });
  assertEquals(asked, 2);
  assertEquals(published.at(-1), "candidates");
});
