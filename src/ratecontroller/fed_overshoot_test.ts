import { assert } from "../util/assert.ts";
import { type FedCut, FedOvershoot } from "./fed_overshoot.ts";

/** A cut of a burst after a return: starlink at 1.5 Mbit/s (docs/controllers.md, "v59"). */
const RETURN: FedCut = {
  rose: true,
  from: 1032,
  sinceLastS: 1.2,
  queueMs: 11,
  thresholdMs: 15,
  full: true,
  cur: 1334,
};

/** The next cut of the same burst, its queue above the threshold, the rate still above 1032. */
const NEXT: FedCut = { ...RETURN, rose: false, sinceLastS: 0.2, queueMs: 38, cur: 1239 };

/** One fed overshoot at `at`: the return's cut, then the next cut 0.2 s later. */
function fed(f: FedOvershoot, at: number, next: Partial<FedCut> = {}): void {
  f.cut(at, RETURN);
  f.cut(at + 0.2, { ...NEXT, ...next });
}

Deno.test("fed overshoot: a second one within 60 s turns the discovery speed off for 20 s", () => {
  const f = new FedOvershoot();
  fed(f, 89.1);
  assert(!f.blocksDiscovery(89.3), "one alone does not");
  fed(f, 104.1);
  assert(f.blocksDiscovery(104.3) && f.blocksDiscovery(124.2), "for 20 s from the second");
  assert(!f.blocksDiscovery(124.3), "not after 20 s");
  const apart = new FedOvershoot();
  fed(apart, 89.1);
  fed(apart, 149.3);
  assert(!apart.blocksDiscovery(149.5), "60 s apart: not a repeat");
});

Deno.test("fed overshoot: a cut whose decision the link limited is a fall, not our backlog", () => {
  const f = new FedOvershoot();
  fed(f, 89.1, { full: false });
  fed(f, 104.1);
  assert(!f.blocksDiscovery(104.3));
});

Deno.test("fed overshoot: the queue must pass the threshold within the burst, above its start", () => {
  const low = new FedOvershoot();
  fed(low, 89.1, { queueMs: 15 });
  fed(low, 104.1);
  assert(!low.blocksDiscovery(104.3), "a queue at the threshold is not above it");
  const under = new FedOvershoot();
  fed(under, 89.1, { cur: 1000 });
  fed(under, 104.1);
  assert(!under.blocksDiscovery(104.3), "a dip's later cut delivers its low rate in full");
  const later = new FedOvershoot();
  fed(later, 89.1, { sinceLastS: 1.4 });
  fed(later, 104.1);
  assert(!later.blocksDiscovery(104.3), "more than 1 s after the previous cut: a new burst");
  const noRise = new FedOvershoot();
  noRise.cut(89.3, NEXT);
  fed(noRise, 104.1);
  assert(!noRise.blocksDiscovery(104.3), "no rise began the burst");
});

Deno.test("fed overshoot: the return's own cut counts once its queue is above the threshold", () => {
  const f = new FedOvershoot();
  f.cut(89.1, { ...RETURN, queueMs: 16 });
  f.cut(104.1, { ...RETURN, queueMs: 16 });
  assert(f.blocksDiscovery(104.1));
});

Deno.test("fed overshoot: offS 0 turns the rule off", () => {
  const f = new FedOvershoot({ offS: 0 });
  fed(f, 89.1);
  fed(f, 104.1);
  assert(!f.blocksDiscovery(104.3));
});
