import { assertEquals } from "../src/util/assert.ts";
import { slope } from "./soak_real.ts";

Deno.test("slope: least squares over the finite points only", () => {
  assertEquals(slope([0, 1, 2, 3], [1, 3, 5, 7]), 2);
  // A missing reading (NaN) is left out, not counted as zero.
  assertEquals(slope([0, 1, 2, 3, 4], [10, NaN, 10, 10, 10]), 0);
  assertEquals(Number.isNaN(slope([0, 1], [0, 1])), true);
});
