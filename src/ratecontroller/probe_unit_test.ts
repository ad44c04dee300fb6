import { assertEquals } from "../util/assert.ts";
import { probeUnit, type ProbeUnitInput } from "./probe_unit.ts";

const P = { lowProbe: 1.5, lowProbeShared: 3.5 };
/** A download of base 20000 and minimum 4000 kbit/s whose estimate a cut took to 10000. */
const AT: ProbeUnitInput = {
  cur: 9500,
  cap: 10000,
  base: 20000,
  min: 4000,
  shared: true,
  discovering: false,
};

Deno.test("probe unit: with RTT only and both busy, under 3.5 x the minimum the base rate", () => {
  assertEquals(probeUnit(AT, P), 20000);
  assertEquals(probeUnit({ ...AT, cur: 14500, cap: 15000 }, P), 15000, "above 3.5 x the minimum");
});

Deno.test("probe unit: otherwise the base rate only under 1.5 x the minimum (v26)", () => {
  assertEquals(probeUnit({ ...AT, shared: false }, P), 10000, "one-way delays, or one busy");
  assertEquals(probeUnit({ ...AT, discovering: true }, P), 10000, "the search after a collapse");
  assertEquals(probeUnit({ ...AT, shared: false, cur: 5000, cap: 5200 }, P), 20000);
  assertEquals(
    probeUnit(AT, { lowProbe: 1.5, lowProbeShared: 1 }),
    10000,
    "never under lowProbe's",
  );
  assertEquals(probeUnit({ ...AT, cap: 25000 }, P), 25000, "an estimate above base is the unit");
});
