import { assertEquals } from "../src/util/assert.ts";
import { slope } from "./soak_real.ts";

Deno.test("slope: least squares over the finite points only", () => {
  assertEquals(slope([0, 1, 2, 3], [1, 3, 5, 7]), 2);
  // A missing reading (NaN) is left out, not counted as zero.
  assertEquals(slope([0, 1, 2, 3, 4], [10, NaN, 10, 10, 10]), 0);
  assertEquals(Number.isNaN(slope([0, 1], [0, 1])), true);
});

Deno.test("slope: with groups, a level per group; a sawtooth over the groups is no slope", () => {
  // Two phases at different levels, alternating, flat within each: no growth.
  const xs = [0, 1, 2, 3, 4, 5, 6, 7];
  const ys = [0, 10, 0, 10, 0, 10, 0, 11];
  const g = xs.map((x) => x % 2);
  assertEquals(Math.abs(slope(xs, ys, g)) < 0.2, true);
  // Growth of 2 per x under the same alternation is found as 2.
  assertEquals(slope(xs, xs.map((x, i) => 2 * x + (i % 2) * 10), g), 2);
});
