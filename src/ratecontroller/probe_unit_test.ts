import { assertEquals } from "../util/assert.ts";
import { type ProbeLevels, probeUnit, type ProbeUnitInput } from "./probe_unit.ts";

const P = { lowProbe: 1.5, lowProbeShared: 3.5 };
/** A download of base 20000 and minimum 4000 kbit/s whose estimate a cut took to 10000. */
const AT: ProbeLevels & ProbeUnitInput = {
  cur: 9500,
  cap: 10000,
  base: 20000,
  min: 4000,
  shared: true,
  discovering: false,
};
/** The unit of a direction and decision given as one object. */
const unit = (x: ProbeLevels & ProbeUnitInput, p = P) => probeUnit(x, x, p);

Deno.test("probe unit: with RTT only and both busy, under 3.5 x the minimum the base rate", () => {
  assertEquals(unit(AT), 20000);
  assertEquals(unit({ ...AT, cur: 14500, cap: 15000 }), 15000, "above 3.5 x the minimum");
});

Deno.test("probe unit: otherwise the base rate only under 1.5 x the minimum (v26)", () => {
  assertEquals(unit({ ...AT, shared: false }), 10000, "one-way delays, or one busy");
  assertEquals(unit({ ...AT, discovering: true }), 10000, "the search after a collapse");
  assertEquals(unit({ ...AT, shared: false, cur: 5000, cap: 5200 }), 20000);
  assertEquals(
    unit(AT, { lowProbe: 1.5, lowProbeShared: 1 }),
    10000,
    "never under lowProbe's",
  );
  assertEquals(unit({ ...AT, cap: 25000 }), 25000, "an estimate above base is the unit");
});
