import { assertEquals } from "../util/assert.ts";
import { seededRandom } from "../util/clock.ts";
import { TimedMax } from "./timed_max.ts";
import { maxSince, pushTimed, type RateSample } from "./timed_window.ts";

Deno.test("TimedMax: the most since a time, forgetting samples older than the span", () => {
  const w = new TimedMax();
  assertEquals(w.maxSince(-Infinity), 0);
  w.push(0, 5, 1);
  w.push(0.5, 9, 1);
  w.push(1.2, 3, 1);
  assertEquals(w.maxSince(-Infinity), 9);
  assertEquals(w.maxSince(0.6), 3);
  w.push(1.6, 2, 1); // 9 at 0.5 is now older than 1 s
  assertEquals(w.maxSince(-Infinity), 3);
  w.push(2, -4, 1);
  assertEquals(w.maxSince(1.9), 0);
  w.clear();
  assertEquals(w.maxSince(-Infinity), 0);
});

Deno.test("TimedMax answers as pushTimed and maxSince over the whole window (random input)", () => {
  const random = seededRandom(11);
  for (let run = 0; run < 40; run++) {
    const naive: RateSample[] = [];
    const fast = new TimedMax();
    const spanS = [0, 0.3, 2, 30][run % 4];
    let t = 1000;
    for (let i = 0; i < 3000; i++) {
      const r = random();
      // Equal times, small and large steps; values with ties, zeros, negatives and NaN.
      t += r < 0.1 ? 0 : r < 0.95 ? 0.1 : 5 * random();
      const pick = random();
      const kbit = pick < 0.05
        ? NaN
        : pick < 0.1
        ? -random() * 100
        : pick < 0.15
        ? 0
        : pick < 0.3
        ? 50
        : Math.round(random() * 10000) / 10;
      if (random() < 0.9) {
        pushTimed(naive, { t, kbit }, { spanS });
        fast.push(t, kbit, spanS);
      }
      if (random() < 0.002) {
        naive.length = 0;
        fast.clear();
      }
      for (const since of [-Infinity, t - spanS, t - random() * 2 * spanS, t + 1, NaN]) {
        assertEquals(
          fast.maxSince(since),
          maxSince(naive, since),
          `run ${run} i ${i} since ${since}`,
        );
      }
    }
  }
});
