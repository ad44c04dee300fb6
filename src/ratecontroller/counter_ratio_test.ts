import { assert, assertAlmostEquals, assertEquals } from "../util/assert.ts";
import { CounterRatio } from "./counter_ratio.ts";

/** `n` decisions at a steady 10 Mbit/s delivering `load` of it. */
function feed(c: CounterRatio, n: number, x: { load: number; clear?: boolean }): void {
  for (let i = 0; i < n; i++) {
    c.observe({ thr: 10000 * x.load, rate: 10000, clear: x.clear ?? true });
  }
}

Deno.test("counter ratio: a counter reading 96 % of a full shaper is learned; one reading the rate stays 1", () => {
  const low = new CounterRatio();
  feed(low, 100, { load: 0.96 });
  assertAlmostEquals(low.ratio, 0.96, 0.003);
  const exact = new CounterRatio();
  feed(exact, 100, { load: 1 });
  feed(exact, 10, { load: 0.99 });
  assertEquals(exact.ratio, 1);
});

Deno.test("counter ratio: a queue, a light load or a changing rate teaches it nothing", () => {
  const c = new CounterRatio();
  feed(c, 100, { load: 0.9, clear: false }); // the bottleneck upstream: a queue shows
  feed(c, 100, { load: 0.5 }); // light
  for (let i = 0; i < 100; i++) c.observe({ thr: 9000, rate: 10000 * 1.08 ** i, clear: true });
  assertEquals(c.ratio, 1);
});

Deno.test("counter ratio: a minority of short decisions (a light second) does not move the median", () => {
  const c = new CounterRatio();
  for (let i = 0; i < 300; i++) feed(c, 1, { load: i % 4 === 0 ? 0.87 : 0.96 });
  assertAlmostEquals(c.ratio, 0.96, 0.003);
  assert(c.ratio >= 0.9);
});
