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
