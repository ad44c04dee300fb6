import { assertEquals } from "../util/assert.ts";
import { COUNTER32_WRAP, counterDelta, WRAP_RATE_FACTOR } from "./counter_delta.ts";

const opts = { dtS: 0.5, maxKbit: 100_000 }; // at most 4 × 100 Mbit/s × 0.5 s = 25 MB a wrap

Deno.test("counterDelta: a rise is its difference; a 32-bit wrap counts across it", () => {
  assertEquals(counterDelta(1000, 5000, opts), 4000);
  assertEquals(counterDelta(COUNTER32_WRAP - 1000, 500, opts), 1500);
  assertEquals(counterDelta(COUNTER32_WRAP - 1, 0, opts), 1);
});

Deno.test("counterDelta: a decrease the link could not carry, or above 32 bits, is a reset", () => {
  const limit = WRAP_RATE_FACTOR * opts.maxKbit * opts.dtS * 1000 / 8;
  assertEquals(counterDelta(COUNTER32_WRAP - limit, 0, opts), limit, "just within the bound");
  assertEquals(counterDelta(COUNTER32_WRAP - limit - 1, 0, opts), undefined);
  assertEquals(counterDelta(3e9, 1000, opts), undefined, "zeroed far from the top");
  assertEquals(counterDelta(1e12, 1000, opts), undefined, "a 64-bit counter went back");
  assertEquals(counterDelta(COUNTER32_WRAP - 10, 5, { ...opts, dtS: 0 }), undefined);
  assertEquals(counterDelta(NaN, 5, opts), undefined);
  assertEquals(counterDelta(100, -5, opts), undefined);
});
