import { assert, assertEquals } from "../util/assert.ts";
import { createOwdState } from "../baseline/owd_state.ts";
import { seededRandom } from "../util/clock.ts";
import { ReflectorSelector } from "./selector.ts";
import { MAX_PROBE_SPEEDUP, shortSetPeriodS } from "./short_pool.ts";

const TICK = 0.5;
const POOL = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];

Deno.test("shortSetPeriodS: a short set keeps num_reflectors / tick probes a second, at most twice the tick's rate each (v76)", () => {
  assertEquals(shortSetPeriodS(TICK, { peers: 5, numReflectors: 5 }), TICK);
  assertEquals(shortSetPeriodS(TICK, { peers: 0, numReflectors: 5 }), TICK);
  assertEquals(shortSetPeriodS(TICK, { peers: 4, numReflectors: 5 }), 0.4);
  assertEquals(shortSetPeriodS(TICK, { peers: 1, numReflectors: 5 }), TICK / MAX_PROBE_SPEEDUP);
});

Deno.test("selector: with only four of ten answering it keeps those four, probed faster, and backs off instead of cycling every 1.6 s (v76)", () => {
  // Six of the pool are dead; the loop asks for a reselection every tick (fewer than 5 fresh).
  const alive = new Set(["b", "d", "f", "h"]);
  const owd = createOwdState(["a", "b", "c", "d", "e", "f"]);
  const cycles: number[] = [];
  let selected: { peers: readonly string[]; periodS: number } | undefined;
  let now = 0;
  const selector = new ReflectorSelector({
    owd,
    pool: POOL,
    numReflectors: 5,
    tickS: TICK,
    peerReselectionTimeMin: 15,
    random: seededRandom(7),
    onPeers: (peers, phase, { periodS, slow }) => {
      if (phase === "candidates") cycles.push(now);
      // The silent candidates watched beside them (v82) are no peers kept.
      else selected = { peers: peers.filter((ip) => !slow?.reflectors.includes(ip)), periodS };
    },
  });
  // Every dead reflector answered once, long ago: its last RTT still ranks it (v61).
  for (const ip of POOL) {
    owd.recent.set(ip, { up_ewma: 1, down_ewma: 1, last_receive_time_s: -100 });
  }
  selector.start(now);
  for (; now <= 120; now = Math.round((now + 0.05) * 100) / 100) {
    for (const ip of owd.peers) {
      if (alive.has(ip)) owd.recent.set(ip, { up_ewma: 5, down_ewma: 5, last_receive_time_s: now });
    }
    if (Math.abs(now / TICK - Math.round(now / TICK)) < 1e-9) selector.requestReselect("short");
    selector.step(now);
  }
  assert(selected !== undefined);
  assertEquals([...selected.peers].sort(), [...alive].sort());
  assertEquals(selected.periodS, 0.4);
  // Cycles about 5, 10, 20, 40 s apart instead of one every tick × π.
  assert(cycles.length <= 6, cycles.join(" "));
  assertEquals(selector.quietCycles, 0);
});
