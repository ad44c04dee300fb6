import { assertEquals, assertThrows } from "./assert.ts";
import { median, percentile } from "./stats.ts";

Deno.test("median of odd and even lists, unsorted input untouched", () => {
  const v = [3, 1, 2];
  assertEquals(median(v), 2);
  assertEquals(v, [3, 1, 2]);
  assertEquals(median([4, 1, 3, 2]), 2.5);
  assertThrows(() => median([]), Error);
});

Deno.test("percentile uses the nearest rank", () => {
  const v = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1];
  assertEquals(percentile(v, 50), 5);
  assertEquals(percentile(v, 95), 10);
  assertEquals(percentile(v, 0), 1);
  assertEquals(percentile([7], 95), 7);
  assertEquals(percentile([], 50), NaN);
});
