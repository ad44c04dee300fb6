import { assert, assertAlmostEquals, assertEquals } from "../util/assert.ts";
import { LoadStart, type LoadStartParams } from "./load_start.ts";

const MIN = 1000;
const PROBE = { speed: 0.01, perS: 0.01, maxPerS: 0.15 };

/** `s` seconds of decisions 0.1 s apart from `from`, each idle, light but not idle, or loaded. */
function run(
  ls: LoadStart,
  from: number,
  s: number,
  kind: "idle" | "light" | "loaded",
): number {
  const n = Math.round(s * 10);
  for (let k = 0; k < n; k++) {
    ls.observe(from + k * 0.1, {
      light: kind !== "loaded",
      delivered: kind === "idle" ? 100 : kind === "light" ? 0.8 * MIN : 5 * MIN,
      min: MIN,
    });
  }
  return from + n * 0.1;
}

/** A load after `pauseS` of `kind` decisions; returns the load's start time. */
function loadAfter(
  pauseS: number,
  kind: "idle" | "light",
  params: Partial<LoadStartParams> = {},
): { ls: LoadStart; t: number } {
  const ls = new LoadStart(params, 0);
  let t = run(ls, 0, 5, "loaded");
  t = run(ls, t, pauseS, kind);
  run(ls, t, 0.1, "loaded");
  return { ls, t };
}

Deno.test("load start: a load after at least pauseS of idle decisions starts the window", () => {
  const { ls, t } = loadAfter(1, "idle");
  assert(ls.within(t), "just after the start");
  assert(ls.within(t + 7.9), "within windowS (8 s)");
  assert(!ls.within(t + 8), "over after windowS");
  const short = loadAfter(0.3, "idle");
  assert(!short.ls.within(short.t), "a 0.3 s pause is no load start");
});

Deno.test("load start: a light stretch that still delivers (a dip, not a pause) starts nothing", () => {
  const { ls, t } = loadAfter(2, "light");
  assert(!ls.within(t), "delivering above half the minimum: no pause");
});

Deno.test("load start: the fast probe doubles every doubleS from the start, capped, far units", () => {
  const { ls, t } = loadAfter(1, "idle");
  const at = (s: number) => ls.probe(t + s, PROBE);
  assertAlmostEquals(at(0).speed, 0.01, 1e-12);
  assertAlmostEquals(at(2).speed, 0.04, 1e-12);
  assertEquals(at(6).speed, 0.15, "at most maxPerS");
  assert(at(2).far, "in units of max(estimate, base)");
  // A faster usual speed (a long quiet time) is kept.
  assertEquals(ls.probe(t, { ...PROBE, speed: 0.1 }).speed, 0.1);
  const late = ls.probe(t + 9, PROBE);
  assertEquals(late, { speed: 0.01, far: false }, "after windowS: the usual probe");
});

Deno.test("load start: its own overshoot's cut ends the fast probe until the next start", () => {
  const { ls, t } = loadAfter(1, "idle");
  ls.ownCut();
  assertEquals(ls.probe(t + 2, PROBE), { speed: 0.01, far: false });
  assert(ls.within(t + 2), "the window itself (kept levels) goes on");
  let u = run(ls, t + 3, 1, "idle");
  u = run(ls, u, 0.1, "loaded");
  assert(ls.probe(u, PROBE).far, "the next load after a pause probes fast again");
});

Deno.test("load start: windowS 0 turns the rule off", () => {
  const { ls, t } = loadAfter(2, "idle", { windowS: 0 });
  assert(!ls.within(t));
  assertEquals(ls.probe(t + 1, PROBE), { speed: 0.01, far: false });
});
