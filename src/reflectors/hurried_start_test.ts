import { assert, assertEquals } from "../util/assert.ts";
import { Baseliner } from "../baseline/baseliner.ts";
import { createOwdState } from "../baseline/owd_state.ts";
import { seededRandom } from "../util/clock.ts";
import type { OwdState } from "../control/ports.ts";
import { hurriedPeriodS, HurriedStart, HURRY_JUDGED } from "./hurried_start.ts";
import { ReflectorSelector } from "./selector.ts";
import { ReflectorSpread } from "./spread.ts";

const TICK = 0.5;
const INITIAL = ["a", "b", "c", "d", "e", "f"];
const POOL = [...INITIAL, "g", "h", "i", "j"];

/** The selector of the tests' pool over `owd`, telling `onPeriod` each set's probe period. */
function selectorOf(owd: OwdState, onPeriod: (periodS: number) => void): ReflectorSelector {
  return new ReflectorSelector({
    owd,
    pool: POOL,
    numReflectors: 5,
    tickS: TICK,
    peerReselectionTimeMin: 15,
    random: seededRandom(3),
    onPeers: (_peers, _phase, { periodS }) => onPeriod(periodS),
  });
}

/**
 * The daemon's start for 20 s: six initial peers answer once a tick each, staggered, 20 ms, and
 * the `jittery` ones 12 ms more at two samples of three. Returns the selector's publications.
 */
function start(jittery: ReadonlySet<string>) {
  const owd = createOwdState(INITIAL);
  const baseliner = new Baseliner(owd, { tickS: TICK });
  const spread = new ReflectorSpread(owd, { tickS: TICK });
  const published: { t: number; periodS: number }[] = [];
  let now = 0;
  const selector = selectorOf(owd, (periodS) => published.push({ t: now, periodS }));
  const hurried = new HurriedStart({
    tickS: TICK,
    peers: () => owd.peers,
    suspected: (ip, judged) => spread.suspected(ip, judged),
    hurry: (periodS) => selector.hurryInitial(periodS),
  });
  selector.start(0);
  for (let k = 0; k * TICK < 20; k++) {
    INITIAL.forEach((ip, i) => {
      now = k * TICK + (i * TICK) / INITIAL.length;
      const rtt = 20 + (jittery.has(ip) && k % 3 !== 0 ? 12 : 0);
      baseliner.ingest({ reflector: ip, upMs: rtt / 2, downMs: rtt / 2, receiveTimeS: now });
      spread.observe(ip, now);
      if (selector.reselectionCount === 0) hurried.observe();
      selector.step(now);
    });
  }
  return published;
}

Deno.test("hurriedPeriodS: 20 probes a second in all, at most twice the tick's rate each (v79)", () => {
  assertEquals(hurriedPeriodS(TICK, 6), 0.3);
  assertEquals(hurriedPeriodS(TICK, 2), TICK / 2);
});

Deno.test("hurried start: three jittery initial peers of six are probed faster once judged on a few samples, before any reselection (v79)", () => {
  const published = start(new Set(["b", "c", "e"]));
  assertEquals(published.length, 1, JSON.stringify(published));
  assertEquals(published[0].periodS, hurriedPeriodS(TICK, INITIAL.length));
  // Ten settling samples, then HURRY_JUDGED judged ones, at two a second: after 8 s, before the
  // spread rule's own judgement (20 judged samples, 15 s).
  const earliest = (10 + HURRY_JUDGED - 2) * TICK;
  assert(published[0].t >= earliest && published[0].t < 12, `at ${published[0].t} s`);
});

Deno.test("hurried start: clean initial peers, or two jittery ones, are probed at the tick's rate (v79)", () => {
  assertEquals(start(new Set()), []);
  assertEquals(start(new Set(["c", "f"])), []);
});

Deno.test("hurried start: not once a reselection has begun (v79)", () => {
  const owd = createOwdState(INITIAL);
  const periods: number[] = [];
  const selector = selectorOf(owd, (periodS) => periods.push(periodS));
  selector.start(0);
  selector.requestReselect("test");
  selector.step(2);
  assert(selector.reselectionCount === 1);
  assertEquals(selector.hurryInitial(0.3), false);
  assert(!periods.includes(0.3));
});
