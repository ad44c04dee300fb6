import { assert, assertAlmostEquals, assertEquals } from "../util/assert.ts";
import { holderClimbs, WAIT_CLIMB_DEFAULTS, WaitClimb } from "./wait_climb.ts";

Deno.test("wait climb: climbs toward fraction of the clear peak at perS of it", () => {
  const w = new WaitClimb({ windowS: 30, fraction: 0.9, perS: 0.05 });
  w.noteClear(10, 20_000);
  w.noteClear(11, 18_000);
  // 5 % of 20 Mbit/s per s over 0.1 s: +100 kbit/s.
  assertAlmostEquals(w.climb(12, { cur: 8_000, dt: 0.1, clear: true })!, 8_100, 1e-9);
  // Stops at 0.9 × peak.
  assertEquals(w.climb(12, { cur: 17_950, dt: 0.1, clear: true }), 18_000);
  assertEquals(w.climb(12, { cur: 18_000, dt: 0.1, clear: true }), undefined);
});

Deno.test("wait climb: not while the RTT shows a queue, unless onlyClear is off", () => {
  const w = new WaitClimb({ windowS: 30 });
  w.noteClear(0, 10_000);
  assertEquals(w.climb(1, { cur: 5_000, dt: 0.1, clear: false }), undefined);
  const any = new WaitClimb({ windowS: 30, onlyClear: false });
  any.noteClear(0, 10_000);
  assertEquals(typeof any.climb(1, { cur: 5_000, dt: 0.1, clear: false }), "number");
});

Deno.test("wait climb: the peak ages out after windowS (virtual time)", () => {
  const w = new WaitClimb({ windowS: 30, fraction: 0.9 });
  w.noteClear(0, 20_000);
  w.noteClear(25, 6_000);
  assertEquals(w.peak(29), 20_000);
  // At 31 s the 20 Mbit/s decision is older than the window: only 6 Mbit/s counts.
  assertEquals(w.peak(31), 6_000);
  assertEquals(w.climb(31, { cur: 5_400, dt: 0.1, clear: true }), undefined);
  // Nothing clear in the window: no climb.
  assertEquals(w.climb(100, { cur: 1_000, dt: 0.1, clear: true }), undefined);
});

Deno.test("wait climb: windowS 0 turns the rule off", () => {
  const w = new WaitClimb({ windowS: 0 });
  w.noteClear(0, 20_000);
  assertEquals(w.climb(1, { cur: 1_000, dt: 0.1, clear: true }), undefined);
});

Deno.test("wait climb: the turn holder's climb runs at its own speed (v52)", () => {
  const w = new WaitClimb({ windowS: 30, fraction: 0.9, perS: 0.05, holderPerS: 0.1 });
  w.noteClear(10, 20_000);
  // 10 % of 20 Mbit/s per s over 0.1 s: +200 kbit/s, twice the waiting direction's step.
  assertAlmostEquals(w.climb(12, { cur: 8_000, dt: 0.1, clear: true, perS: 0.1 })!, 8_200, 1e-9);
  assertAlmostEquals(w.climb(12, { cur: 8_000, dt: 0.1, clear: true })!, 8_100, 1e-9);
  // The same limit and the same gate on the RTT.
  assertEquals(w.climb(12, { cur: 17_900, dt: 0.1, clear: true, perS: 0.1 }), 18_000);
  assertEquals(w.climb(12, { cur: 8_000, dt: 0.1, clear: false, perS: 0.1 }), undefined);
});

Deno.test("wait climb: the turn holder climbs only after a deep dip under sustained load (v52)", () => {
  const p = { ...WAIT_CLIMB_DEFAULTS, holderDipS: 120, holderBusyS: 8 };
  assert(holderClimbs(p, { sinceDipS: 30, busyS: 20 }));
  assert(!holderClimbs(p, { sinceDipS: 130, busyS: 20 }), "the dip is too long ago");
  assert(!holderClimbs(p, { sinceDipS: Infinity, busyS: 20 }), "no deep dip");
  assert(!holderClimbs(p, { sinceDipS: 30, busyS: 5 }), "a burst, not sustained load");
  assert(!holderClimbs({ ...p, holderPerS: 0 }, { sinceDipS: 30, busyS: 20 }), "off");
});
