import fc from "fast-check";
import { assert, assertEquals, assertThrows } from "../util/assert.ts";
import { settingsWithDefaults } from "../config/defaults.ts";
import type { TableSettings } from "../config/settings_table.ts";
import { createOwdState } from "../baseline/owd_state.ts";
import { VirtualClock } from "../util/clock.ts";
import { MemoryShaper } from "../apply/memory.ts";
import type { Adjustment, RateAdjuster, Ratecontroller } from "./ratecontroller_port.ts";
import { ControlLoop } from "./loop.ts";
import {
  clampRate,
  clampThreshold,
  HARD_MAX_RATE_KBIT,
  hardClampRate,
  rateBounds,
  THRESHOLD_BOUNDS_MS,
} from "./rate_bounds.ts";

const PEERS = ["p1", "p2", "p3", "p4", "p5"];

Deno.test("rate bounds: base 50 with min 1 % gives a 1 kbit/s floor, not 0 (CAKE's unlimited)", () => {
  const s = settingsWithDefaults({ base_dl_rate: 50, base_ul_rate: 50, dl_min_percent: 1 });
  assertEquals(s.min_dl_rate, 0); // the derived setting, as upstream computes it
  assertEquals(rateBounds(s, "dl"), { min: 1, max: 500 });
  assertEquals(clampRate(0, rateBounds(s, "dl"), 0), 1);
});

Deno.test("rate bounds: the max setting caps, 0 means 10 × base, never above the hard ceiling", () => {
  const capped = settingsWithDefaults({
    base_dl_rate: 20000,
    base_ul_rate: 5000,
    max_ul_rate: 6000,
  });
  assertEquals(rateBounds(capped, "ul"), { min: 1000, max: 6000 });
  assertEquals(rateBounds(capped, "dl"), { min: 4000, max: 200000 });
  const huge = settingsWithDefaults({ base_dl_rate: 100_000_000, base_ul_rate: 10 });
  assertEquals(rateBounds(huge, "dl").max, HARD_MAX_RATE_KBIT);
});

Deno.test("rate bounds: any number in, a whole rate within the bounds out (property)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 10, max: 100_000_000 }),
      fc.double({ min: 1, max: 80, noNaN: true }),
      fc.integer({ min: 0, max: 100_000_000 }),
      fc.oneof(fc.double(), fc.constantFrom(Infinity, -Infinity, NaN, 0, -1, 1e300, 1e-300)),
      fc.oneof(fc.double(), fc.constantFrom(NaN, 0)),
      (base, pct, max, proposal, fallback) => {
        const s = settingsWithDefaults({
          base_dl_rate: base,
          base_ul_rate: base,
          dl_min_percent: pct,
          max_dl_rate: max,
        });
        const b = rateBounds(s, "dl");
        const r = clampRate(proposal, b, fallback);
        assert(Number.isInteger(r) && r >= 1 && r >= b.min && r <= b.max, `${r} ${b.min}-${b.max}`);
        if (max > 0) assert(r <= Math.max(max, b.min), `${r} above max ${max}`);
        assert(r <= HARD_MAX_RATE_KBIT);
      },
    ),
  );
});

Deno.test("rate bounds: the shaper boundary floors at 1, caps at the ceiling, refuses non-numbers", () => {
  assertEquals(hardClampRate(0), 1);
  assertEquals(hardClampRate(-5), 1);
  assertEquals(hardClampRate(1e300), HARD_MAX_RATE_KBIT);
  assertEquals(hardClampRate(12345.9), 12345);
  assertThrows(() => hardClampRate(NaN), RangeError);
  assertThrows(() => hardClampRate(Infinity), RangeError);
});

Deno.test("threshold bounds: the settings' range; a non-finite value keeps the old one", () => {
  assertEquals(clampThreshold(1e-300, 15), THRESHOLD_BOUNDS_MS.min);
  assertEquals(clampThreshold(1e300, 15), THRESHOLD_BOUNDS_MS.max);
  assertEquals(clampThreshold(NaN, 15), 15);
  assertEquals(clampThreshold(22.5, 15), 22.5);
});

/** A loop with one fixed controller and one adjuster returning `adjust`, on memory shapers. */
function loopWith(overrides: Partial<TableSettings>, adjust: Adjustment) {
  const settings = settingsWithDefaults({ base_dl_rate: 20000, base_ul_rate: 5000, ...overrides });
  const clock = new VirtualClock(100);
  const owd = createOwdState(PEERS);
  const controller: Ratecontroller = {
    name: "fixed",
    decide: (input) => ({ next_dl_rate: input.readings.cur_dl_rate, next_ul_rate: 3000 }),
  };
  const plugin: RateAdjuster = { name: "wild", adjust: () => adjust };
  const dl = new MemoryShaper("ifb4wan");
  const ul = new MemoryShaper("wan");
  let bytes = 0;
  const loop = new ControlLoop({
    settings,
    clock,
    owd,
    reselect: { requestReselect: () => {} },
    controller,
    adjusters: [plugin],
    counters: {
      read: () =>
        Promise.resolve({ dlBytes: bytes += 1e6, ulBytes: bytes, dlIfindex: 1, ulIfindex: 2 }),
    },
    shaper: { dl, ul },
  });
  const tick = async () => {
    clock.advance(0.5);
    const t = clock.monotonicS();
    for (const ip of PEERS) {
      owd.baseline.set(ip, { up_ewma: 10, down_ewma: 10, last_receive_time_s: t });
      owd.recent.set(ip, { up_ewma: 11, down_ewma: 11, last_receive_time_s: t });
    }
    return await loop.tick();
  };
  return { loop, dl, ul, tick };
}

Deno.test("loop: a plugin's absurd rates and thresholds are bounded before any shaper sees them", async () => {
  const t = loopWith({ max_ul_rate: 4500 }, {
    next_dl_rate: 1e300,
    next_ul_rate: 10_000_000,
    dl_max_delta_owd: 1e-300,
    ul_max_delta_owd: 1e300,
  });
  await t.loop.start();
  for (let i = 0; i < 3; i++) await t.tick();
  // 10 × base without a max; the max setting with one.
  assertEquals(t.dl.history, [12000, 200000]);
  assertEquals(t.ul.history, [3000, 4500]);
  assertEquals(t.loop.state.dl_max_delta_owd, THRESHOLD_BOUNDS_MS.min);
  assertEquals(t.loop.state.ul_max_delta_owd, THRESHOLD_BOUNDS_MS.max);
});

Deno.test("loop: start-up minimum and exit rates pass the same clamp (never 0, never above max)", async () => {
  const t = loopWith(
    { base_dl_rate: 50, dl_min_percent: 1, base_ul_rate: 50000, max_ul_rate: 30000 },
    {},
  );
  const s = settingsWithDefaults({
    base_dl_rate: 50,
    dl_min_percent: 1,
    base_ul_rate: 50000,
    max_ul_rate: 30000,
  });
  await t.loop.setRates(s.min_dl_rate, s.min_ul_rate); // start-up minimum: dl would be 0
  await t.loop.setRates(s.base_dl_rate, s.base_ul_rate); // exit_rate=base: ul above the max
  await t.loop.setRates(NaN, Infinity); // nonsense keeps what is in force
  assertEquals(t.dl.history, [1, 50, 50]);
  assertEquals(t.ul.history, [10000, 30000, 30000]);
});
