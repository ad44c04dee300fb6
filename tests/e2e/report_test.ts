import { assertEquals } from "../../src/util/assert.ts";
import { phaseMeans } from "./report.ts";

Deno.test("phaseMeans: each phase's mean rate and delivery; a phase without points is NaN", () => {
  const s = { stepDownAtS: 2, stepUpAtS: 4, loadS: 6 };
  const points = [
    { tS: -0.5, rate: 999, delivered: 999 }, // before the load: left out
    { tS: 0, rate: 10, delivered: 8 },
    { tS: 1.9, rate: 20, delivered: 18 },
    { tS: 2, rate: 4, delivered: 3 }, // the step down's own time belongs to the dip
    { tS: 3.9, rate: 4, delivered: 2 },
    { tS: 6, rate: 999, delivered: 999 }, // at the load's end: left out
  ];
  const [before, between, after] = phaseMeans(points, s);
  assertEquals(before, { rate: 15, delivered: 13 });
  assertEquals(between, { rate: 4, delivered: 2.5 });
  assertEquals([Number.isNaN(after.rate), Number.isNaN(after.delivered)], [true, true]);
});
