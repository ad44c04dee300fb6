import { assert, assertEquals } from "../util/assert.ts";
import { createOwdState } from "../baseline/owd_state.ts";
import { seededRandom } from "../util/clock.ts";
import { ReflectorSelector } from "./selector.ts";
import { CHILD_JITTER_PROBES, MAX_PROBES_PER_S } from "./short_pool.ts";
import { SilentWatch, type SlowProbes, WATCH_PERIOD_S, watchPeriodS } from "./silent_watch.ts";

const TICK = 0.5;
const POOL = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];

Deno.test("watchPeriodS keeps the watch's probes within 5 a second (v82)", () => {
  assertEquals(watchPeriodS(6), WATCH_PERIOD_S);
  assertEquals(watchPeriodS(30), 6, "30 silent ones: 5 probes a second in all");
});

Deno.test("SilentWatch: a watched reflector that answers after the watch began is found at a check", () => {
  const w = new SilentWatch();
  const last = new Map<string, number>([["x", 5]]);
  const probes = w.begin(["x", "y"], 10);
  assertEquals(probes, { reflectors: ["x", "y"], periodS: WATCH_PERIOD_S });
  assertEquals(w.nextCheckS, 10 + WATCH_PERIOD_S);
  assertEquals(w.check(13, (ip) => last.get(ip) ?? -Infinity), undefined, "x's reply is older");
  assertEquals(w.nextCheckS, 16);
  last.set("y", 15);
  assertEquals(w.check(16, (ip) => last.get(ip) ?? -Infinity), "y");
  assertEquals(w.nextCheckS, Infinity);
  assertEquals(w.perS, 2 / WATCH_PERIOD_S, "probed until the cycle begins");
  w.clear();
  assertEquals(w.perS, 0);
  assertEquals(w.begin([], 20), undefined);
});

Deno.test("selector: a short pool's silent candidates are watched, and one that answers again starts a cycle long before the back-off ends (v82)", () => {
  // Six of the pool are dead; the loop asks for a reselection every tick (fewer than 5 fresh).
  const alive = new Set(["b", "d", "f", "h"]);
  const owd = createOwdState(["a", "b", "c", "d", "e", "f"]);
  const cycles: { t: number; peers: readonly string[]; periodS: number; slow?: SlowProbes }[] = [];
  const selected: { t: number; peers: readonly string[]; periodS: number; slow?: SlowProbes }[] =
    [];
  let now = 0;
  let probed: readonly string[] = owd.peers;
  const selector = new ReflectorSelector({
    owd,
    pool: POOL,
    numReflectors: 5,
    tickS: TICK,
    peerReselectionTimeMin: 15,
    random: seededRandom(7),
    onPeers: (peers, phase, probes) => {
      probed = peers;
      (phase === "candidates" ? cycles : selected).push({ t: now, peers, ...probes });
    },
  });
  for (const ip of POOL) {
    owd.recent.set(ip, { up_ewma: 1, down_ewma: 1, last_receive_time_s: -100 });
  }
  selector.start(now);
  const run = (untilS: number) => {
    for (; now <= untilS; now = Math.round((now + 0.05) * 100) / 100) {
      // Replies of what the pinger probes, whether a peer or watched.
      for (const ip of probed) {
        if (alive.has(ip)) {
          owd.recent.set(ip, { up_ewma: 5, down_ewma: 5, last_receive_time_s: now });
        }
      }
      if (Math.abs(now / TICK - Math.round(now / TICK)) < 1e-9) {
        selector.requestReselect("short");
      }
      selector.step(now);
    }
  };
  run(100);
  const last = selected.at(-1)!;
  const dead = POOL.filter((ip) => !alive.has(ip));
  assertEquals([...last.slow!.reflectors].sort(), dead, "the silent candidates are watched");
  assertEquals([last.periodS, last.slow!.periodS], [0.4, WATCH_PERIOD_S]);
  assertEquals([...owd.peers].sort(), [...alive].sort(), "the watched ones are probed, no peers");
  // A cycle begun while short: the kept peers at their period, the draws apart, ≤ 20/s in all
  // with one probe a second kept back for each child's rounding (v86, continued).
  const short = cycles.filter((c) => c.slow !== undefined);
  assert(short.length >= 2, cycles.map((c) => c.t).join(" "));
  for (const c of short) {
    const kept = c.peers.length - c.slow!.reflectors.length;
    assertEquals(c.periodS, 0.4);
    // The watch probed until the cycle began: its probes may still fall in the same second.
    const watch = selected.findLast((s) => s.t < c.t)?.slow;
    const perS = kept / c.periodS + c.slow!.reflectors.length / c.slow!.periodS +
      (watch === undefined ? 0 : watch.reflectors.length / watch.periodS);
    const children = watch === undefined ? 2 : 3;
    assert(perS + children * CHILD_JITTER_PROBES <= MAX_PROBES_PER_S + 1e-9, String(perS));
  }
  // The back-off has grown past 40 s; "a" answers again at 100 s.
  const before = cycles.length;
  alive.add("a");
  run(110);
  assert(cycles.length > before, "a cycle after a answered");
  assert(cycles[before].t <= 100 + WATCH_PERIOD_S + 0.1, String(cycles[before].t));
  const now5 = selected.at(-1)!;
  assertEquals([...now5.peers].sort(), ["a", "b", "d", "f", "h"]);
  assertEquals([now5.periodS, now5.slow], [TICK, undefined]);
});
