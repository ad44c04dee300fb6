import { assert } from "../util/assert.ts";
import { seededRandom } from "../util/clock.ts";
import { type CounterRead, counterReadDelayS, type ReadBursts } from "./counter_read.ts";
import { ReadBurstChain } from "./read_bursts.ts";
import { lag1Autocorrelation as lag1, mean } from "../util/stats.ts";

const BURSTY: CounterRead & { bursts: ReadBursts } = {
  fixedMs: 20,
  meanMs: 8,
  tailShare: 0,
  tailMeanMs: 0,
  seen: true,
  bursts: { slowShare: 0.2, runLegs: 20, factor: 4 },
};

Deno.test("read bursts: slowShare of the legs are slow, in runs of runLegs on average", () => {
  const chain = new ReadBurstChain(seededRandom(3), BURSTY);
  const n = 400_000;
  let slow = 0;
  let runs = 0;
  let was = false;
  for (let i = 0; i < n; i++) {
    const now = chain.leg().meanMs > BURSTY.meanMs;
    if (now) slow++;
    if (now && !was) runs++;
    was = now;
  }
  assert(Math.abs(slow / n - 0.2) < 0.01, `slow share ${slow / n}`);
  assert(Math.abs(slow / runs - 20) < 1, `mean run ${slow / runs} legs`);
});

Deno.test("read bursts: each leg's mean is kept, its delays correlated from one leg to the next", () => {
  const draw = (read: CounterRead, seed: number) => {
    const random = seededRandom(seed);
    const bursts = read.bursts;
    const chain = bursts && new ReadBurstChain(seededRandom(seed + 1), { ...read, bursts });
    const legs: number[] = [];
    for (let i = 0; i < 200_000; i++) {
      legs.push(counterReadDelayS(random, chain ? chain.leg() : read) * 1000);
    }
    return legs;
  };
  const bursty = draw(BURSTY, 5);
  const { bursts: _, ...plain } = BURSTY;
  const independent = draw(plain, 5);
  assert(Math.abs(mean(bursty) - 28) < 0.3, `bursty mean ${mean(bursty)} ms`);
  assert(Math.abs(mean(independent) - 28) < 0.3, `independent mean ${mean(independent)} ms`);
  // A slow run's legs are slow together: lag-1 about 0.95 (a run's continuing) × the share of the
  // variance between the states' means (33 of 126 ms²), 0.25.
  assert(lag1(bursty) > 0.2, `bursty lag-1 ${lag1(bursty)}`);
  assert(Math.abs(lag1(independent)) < 0.02, `independent lag-1 ${lag1(independent)}`);
});
