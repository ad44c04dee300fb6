import { assertEquals, assertThrows } from "./assert.ts";
import { median, percentile, percentileOfSorted } from "./stats.ts";

Deno.test("median of odd and even lists, unsorted input untouched", () => {
  const v = [3, 1, 2];
  assertEquals(median(v), 2);
  assertEquals(v, [3, 1, 2]);
  assertEquals(median([4, 1, 3, 2]), 2.5);
  assertThrows(() => median([]), Error);
});

Deno.test("percentile interpolates linearly between the closest ranks", () => {
  const v = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0];
  assertEquals(percentile(v, 50), 5);
  assertEquals(percentile(v.slice(1), 50), median(v.slice(1)));
  assertEquals(percentile(v, 95), 9.5);
  assertEquals(percentile(v, 0), 0);
  assertEquals(percentile(v, 100), 10);
  assertEquals(percentile([7], 95), 7);
  assertEquals(percentile([], 50), NaN);
});

Deno.test("percentileOfSorted takes typed arrays and clamps p into 0–100", () => {
  const sorted = Float64Array.from([0, 10, 20, 30]);
  assertEquals(percentileOfSorted(sorted, 50), 15);
  assertEquals(percentileOfSorted(sorted, -5), 0);
  assertEquals(percentileOfSorted(sorted, 250), 30);
});
