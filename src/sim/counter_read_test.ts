import { assert, assertEquals, assertThrows } from "../util/assert.ts";
import { seededRandom } from "../util/clock.ts";
import {
  counterReadDelayS,
  formatCounterRead,
  parseCounterRead,
  TESTBED_COUNTER_READ,
} from "./counter_read.ts";

Deno.test("counter read: testbed, MEAN and MEAN:SHARE:TAILMEAN parse; anything else is refused", () => {
  assertEquals(parseCounterRead("testbed"), { ...TESTBED_COUNTER_READ });
  assertEquals(parseCounterRead("1.2"), { meanMs: 1.2, tailShare: 0, tailMeanMs: 0 });
  assertEquals(parseCounterRead("1:0.1:6"), { meanMs: 1, tailShare: 0.1, tailMeanMs: 6 });
  const seen = { meanMs: 1, tailShare: 0.1, tailMeanMs: 6, seen: true };
  assertEquals(parseCounterRead("1:0.1:6:read"), seen);
  assertEquals(parseCounterRead(formatCounterRead(seen)), seen);
  assertEquals(parseCounterRead("1.2:read"), {
    meanMs: 1.2,
    tailShare: 0,
    tailMeanMs: 0,
    seen: true,
  });
  assertEquals(parseCounterRead(formatCounterRead(TESTBED_COUNTER_READ)), {
    ...TESTBED_COUNTER_READ,
  });
  for (const bad of ["", "x", "1:0.1", "-1", "1:2:3", "1:0.1:-3"]) {
    assertThrows(() => parseCounterRead(bad), Error);
  }
});

Deno.test("counter read: delays have the mean asked for, tail included", () => {
  const random = seededRandom(7);
  const n = 200_000;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += counterReadDelayS(random, TESTBED_COUNTER_READ);
  const want = TESTBED_COUNTER_READ.meanMs +
    TESTBED_COUNTER_READ.tailShare * TESTBED_COUNTER_READ.tailMeanMs;
  assert(Math.abs((sum / n) * 1000 - want) < 0.03 * want, `${(sum / n) * 1000} ms`);
});

Deno.test("counter read: FIXED+MEAN adds a fixed part to every delay (a remote read's legs)", () => {
  const remote = { fixedMs: 10, meanMs: 2, tailShare: 0.1, tailMeanMs: 8, seen: true };
  assertEquals(parseCounterRead("10+2:0.1:8:read"), remote);
  assertEquals(parseCounterRead(formatCounterRead(remote)), remote);
  assertEquals(parseCounterRead("10+2"), { fixedMs: 10, meanMs: 2, tailShare: 0, tailMeanMs: 0 });
  for (const bad of ["+2", "10+", "-1+2", "x+2", "1+2+3", "10+2:0.1"]) {
    assertThrows(() => parseCounterRead(bad), Error);
  }
  const random = seededRandom(7);
  let min = Infinity;
  let sum = 0;
  const n = 100_000;
  for (let i = 0; i < n; i++) {
    const ms = counterReadDelayS(random, remote) * 1000;
    min = Math.min(min, ms);
    sum += ms;
  }
  assert(min >= 10, `${min} ms`);
  const want = 10 + 2 + 0.1 * 8;
  assert(Math.abs(sum / n - want) < 0.02 * want, `${sum / n} ms`);
});

Deno.test("counter read: @SLOW/RUN/FACTOR gives slow spells (read_bursts.ts); bad ones are refused", () => {
  const bursty = {
    fixedMs: 20.4,
    meanMs: 7.7,
    tailShare: 0,
    tailMeanMs: 0,
    bursts: { slowShare: 0.2, runLegs: 20, factor: 4 },
    seen: true,
  };
  assertEquals(parseCounterRead("20.4+7.7@0.2/20/4:read"), bursty);
  assertEquals(parseCounterRead(formatCounterRead(bursty)), bursty);
  assertEquals(parseCounterRead("1:0.1:6@0.5/2/3").bursts, {
    slowShare: 0.5,
    runLegs: 2,
    factor: 3,
  });
  for (
    const bad of [
      "1@",
      "1@0.2/20",
      "1@0.2/20/4/5",
      "1@0/20/4",
      "1@1/20/4",
      "1@0.2/0.5/4",
      "1@0.2/20/0",
      "1@0.9/1/4",
      "1@0.2/20/4@0.2/20/4",
    ]
  ) {
    assertThrows(() => parseCounterRead(bad), Error);
  }
});
