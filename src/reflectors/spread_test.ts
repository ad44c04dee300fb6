import { assert, assertEquals } from "../util/assert.ts";
import { Baseliner } from "../baseline/baseliner.ts";
import { createOwdState } from "../baseline/owd_state.ts";
import type { OwdState } from "../control/ports.ts";
import { ReflectorSpread, SPREAD_DEFAULTS } from "./spread.ts";

const TICK = 0.5;
const PEERS = ["a", "b", "c", "d", "e"];

interface World {
  owd: OwdState;
  baseliner: Baseliner;
  spread: ReflectorSpread;
  requests: string[];
}

function world(peers: readonly string[] = PEERS): World {
  const owd = createOwdState(peers);
  const requests: string[] = [];
  const spread = new ReflectorSpread(owd, {
    tickS: TICK,
    reselect: { requestReselect: (reason) => requests.push(reason) },
  });
  return { owd, baseliner: new Baseliner(owd, { tickS: TICK }), spread, requests };
}

/**
 * Every peer answers once a tick, staggered: `extra(ip, k, t)` ms on top of a 20 ms RTT at its
 * k-th sample (time t).
 */
function run(
  w: World,
  o: { fromS: number; toS: number; extra: (ip: string, k: number, t: number) => number },
): void {
  for (let k = Math.round(o.fromS / TICK); k * TICK < o.toS; k++) {
    w.owd.peers.forEach((ip, i) => {
      const t = k * TICK + (i * TICK) / w.owd.peers.length;
      const rtt = 20 + o.extra(ip, k, t);
      w.baseliner.ingest({ reflector: ip, upMs: rtt / 2, downMs: rtt / 2, receiveTimeS: t });
      w.spread.observe(ip, t);
    });
  }
}

/** Three samples in four 12 ms late: a jitter the others do not share. */
const jittery = (k: number) => (k % 4 === 0 ? 0 : 12);

Deno.test("spread: reflectors often well above the lowest peer are avoided, once judged", () => {
  const w = world();
  const bad = new Set(["a", "b", "c"]); // a majority: a median would be one of them
  const extra = (ip: string, k: number) => (bad.has(ip) ? jittery(k) : 0.5 * (k % 2));
  run(w, { fromS: 0, toS: 5, extra });
  assert(PEERS.every((ip) => !w.spread.avoided(ip)), "judged before settling");
  run(w, { fromS: 5, toS: 30, extra });
  assertEquals(PEERS.filter((ip) => w.spread.avoided(ip)), ["a", "b", "c"]);
  assert(w.spread.share("d") < 0.05 && w.spread.share("a") > SPREAD_DEFAULTS.avoid);
  // One reselection request per peer newly avoided (the selector coalesces them).
  assertEquals(w.requests.length, 3);
});

Deno.test("spread: a queue on our link (every delta high) judges nothing", () => {
  const w = world();
  // A queue that grows and drains by 20 ms within a tick: the peers' samples differ by its
  // change between their turns, but the lowest delta is above `quietMs`.
  const queue = (t: number) => 10 + 20 * Math.abs(Math.sin(t * 5));
  run(w, { fromS: 0, toS: 10, extra: () => 0 });
  run(w, { fromS: 10, toS: 60, extra: (_ip, _k, t) => queue(t) });
  assert(PEERS.every((ip) => !w.spread.avoided(ip)), PEERS.map((ip) => w.spread.share(ip)).join());
  assertEquals(w.requests, []);
});

Deno.test("spread: a reflector not judged for forgetS is forgotten", () => {
  const w = world();
  run(w, { fromS: 0, toS: 30, extra: (ip, k) => (ip === "a" ? jittery(k) : 0) });
  assert(w.spread.avoided("a"));
  w.owd.peers = ["b", "c", "d", "e"];
  run(w, { fromS: 30, toS: 30 + SPREAD_DEFAULTS.forgetS + 20, extra: () => 0 });
  assert(!w.spread.avoided("a"));
  assertEquals(w.spread.followed, 4);
});

Deno.test("spread: every reflector spread (our link's own per-probe delay): none avoided", () => {
  const w = world();
  // Each probe meets a 12 ms delay three times in four, at its own turn: every peer is spread.
  const extra = (ip: string, k: number) => jittery(k + PEERS.indexOf(ip));
  run(w, { fromS: 0, toS: 30, extra });
  assert(PEERS.every((ip) => w.spread.share(ip) > SPREAD_DEFAULTS.avoid));
  assert(PEERS.every((ip) => !w.spread.avoided(ip)));
  assertEquals(w.requests, []);
});

Deno.test("spread: a share judged on its first samples is their mean, not an EWMA from 0 (v70a)", () => {
  const w = world();
  // Three samples in five 12 ms late: a share of 0.6, over the limit once 20 samples are judged
  // (an EWMA of weight 1/20 from 0 would read it as 0.38 then, and cross 0.5 only after ~35).
  const extra = (ip: string, k: number) => (ip === "a" && k % 5 < 3 ? 12 : 0);
  run(w, { fromS: 0, toS: 15, extra });
  assert(w.spread.share("a") > SPREAD_DEFAULTS.avoid, String(w.spread.share("a")));
  assert(w.spread.avoided("a"));
  assertEquals(w.requests.length, 1);
});

Deno.test("spread: judged sound ones preferred only while some reflector is over the limit (v72c)", () => {
  const w = world();
  run(w, { fromS: 0, toS: 30, extra: () => 0 });
  // A clean pool: nothing says it holds bad reflectors, so the draw is left alone.
  assert(PEERS.every((ip) => !w.spread.preferred(ip)));
  run(w, { fromS: 30, toS: 60, extra: (ip, k) => (ip === "a" ? jittery(k) : 0) });
  assert(w.spread.share("a") > SPREAD_DEFAULTS.avoid);
  assertEquals(PEERS.filter((ip) => w.spread.preferred(ip)), ["b", "c", "d", "e"]);
  assert(!w.spread.preferred("z"), "not judged");
});
