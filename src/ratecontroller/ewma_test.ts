import fc from "fast-check";
import { assert, assertEquals } from "../util/assert.ts";
import { settingsWithDefaults } from "../config/defaults.ts";
import { seededRandom } from "../util/clock.ts";
import { EwmaController } from "./ewma.ts";
import type { TickInput, TickReadings } from "../control/ratecontroller_port.ts";

/** Readings as the loop computes them (0.008 × Δbytes / dt, load = utilisation / cur). */
function readings(r: {
  cur_dl_rate: number;
  cur_ul_rate: number;
  dl_bytes: number;
  ul_bytes: number;
  dt?: number;
  dl_deltas: number[];
  ul_deltas: number[];
}): TickReadings {
  const dt = r.dt ?? 0.5;
  const down_utilisation = 0.008 * r.dl_bytes / dt;
  const up_utilisation = 0.008 * r.ul_bytes / dt;
  const dl = [...r.dl_deltas].sort((a, b) => a - b);
  const ul = [...r.ul_deltas].sort((a, b) => a - b);
  return {
    now_s: 10,
    dt,
    rx_load: down_utilisation / r.cur_dl_rate,
    tx_load: up_utilisation / r.cur_ul_rate,
    down_del_stat: dl.length >= 3 ? dl[2] : dl[0],
    up_del_stat: ul.length >= 3 ? ul[2] : ul[0],
    down_utilisation,
    up_utilisation,
    cur_dl_rate: r.cur_dl_rate,
    cur_ul_rate: r.cur_ul_rate,
    dl_bytes: r.dl_bytes,
    ul_bytes: r.ul_bytes,
    dl_deltas: dl,
    ul_deltas: ul,
  };
}

function input(rd: TickReadings, dl = 15, ul = 15): TickInput {
  return { readings: rd, dl_max_delta_owd: dl, ul_max_delta_owd: ul };
}

/** A random source replaying fixed values (fails loudly when exhausted). */
function scripted(values: number[]): () => number {
  let i = 0;
  return () => {
    if (i >= values.length) throw new Error("scripted random exhausted");
    return values[i++];
  };
}

const example = settingsWithDefaults({ base_dl_rate: 100000, base_ul_rate: 20000 });

Deno.test("ewma: docs/algorithm.md §9 worked example gives 65203.024… and 6480", () => {
  const down = new Array(100).fill(80000);
  down[37] = 94812.3;
  const up = new Array(100).fill(17000);
  up[50] = 16204.7;
  const c = new EwmaController(example, scripted([0.5]), { rings: { up, down } });
  const rd = readings({
    cur_dl_rate: 60000,
    cur_ul_rate: 12000,
    dl_bytes: 3375000,
    ul_bytes: 450000,
    dl_deltas: [0.4, 1.2, 2.5, 3.1, 9.8],
    ul_deltas: [1.0, 4.0, 18.0, 22.0, 30.0],
  });
  assertEquals(rd.rx_load, 0.9);
  assertEquals(rd.tx_load, 0.6);
  const d = c.decide(input(rd));
  assertEquals(d.next_dl_rate, 65203.02429115209);
  assertEquals(d.next_ul_rate, 6480);
  assertEquals(Math.floor(d.next_dl_rate), 65203);
  // The download increase wrote floor(60000 × 0.9) into slot 0.
  assertEquals(c.speedHistory().down[0], 54000);
  assertEquals(c.speedHistory().up[0], 17000);
});

Deno.test("ewma: rings start at (U·0.2 + 0.75)·base, download and upload draws interleaved", () => {
  const s = settingsWithDefaults({ base_dl_rate: 1000, base_ul_rate: 100, histsize: 2 });
  const c = new EwmaController(s, scripted([0, 0.5, 0.25, 0.75]));
  assertEquals([...c.speedHistory().down], [750, 800]);
  assertEquals([...c.speedHistory().up], [85, 90]);
});

Deno.test("ewma: increase far below the safe maximum multiplies and adds 3 % of base", () => {
  const s = settingsWithDefaults({ base_dl_rate: 20000, base_ul_rate: 20000, histsize: 4 });
  const ring = [15000, 15000, 15000, 15000];
  const c = new EwmaController(s, scripted([]), { rings: { up: ring, down: ring } });
  const d = c.decide(input(readings({
    cur_dl_rate: 10000,
    cur_ul_rate: 10000,
    dl_bytes: 562500, // 9000 kbit/s over 0.5 s: load 0.9
    ul_bytes: 0,
    dl_deltas: [1, 1, 1, 1, 1],
    ul_deltas: [1, 1, 1, 1, 1],
  })));
  // 10000 × (1 + 0.1 × (1 − 10000/15000)) + 600
  assertEquals(Math.floor(d.next_dl_rate), 10933);
  assert(Math.abs(d.next_dl_rate - (10000 * (1 + 0.1 * (1 / 3)) + 600)) < 1e-9);
  assertEquals(d.next_ul_rate, 10000, "upload load 0 holds");
  assertEquals(c.speedHistory().down[0], 9000);
});

Deno.test("ewma: increase at or above the safe maximum only adds 3 % of base", () => {
  const s = settingsWithDefaults({ base_dl_rate: 20000, base_ul_rate: 20000, histsize: 2 });
  const ring = [5000, 5000];
  const c = new EwmaController(s, scripted([]), { rings: { up: ring, down: ring } });
  const rd = readings({
    cur_dl_rate: 10000,
    cur_ul_rate: 10000,
    dl_bytes: 625000, // 10000 kbit/s: load 1.0, safe write 10000 = cur
    ul_bytes: 625000,
    dl_deltas: [0, 0, 0, 0, 0],
    ul_deltas: [0, 0, 0, 0, 0],
  });
  const d = c.decide(input(rd));
  // Delta statistic 0 still increases (Lua; Rust would hold).
  assertEquals(d.next_dl_rate, 10600);
  assertEquals(d.next_ul_rate, 10600);
  // Ring index wraps at histsize: slots 0, 1, then 0 again.
  c.decide(input({ ...rd, cur_dl_rate: 8000, rx_load: 0.9 }));
  c.decide(input({ ...rd, cur_dl_rate: 4000, rx_load: 0.9 }));
  assertEquals([...c.speedHistory().down], [3600, 7200]);
});

Deno.test("ewma: decrease takes min(0.9 × cur × load, random safe rate) from any slot", () => {
  const s = settingsWithDefaults({ base_dl_rate: 20000, base_ul_rate: 20000, histsize: 4 });
  const c = new EwmaController(s, scripted([0.25, 0.999]), {
    rings: { up: [9000, 3000, 9000, 9000], down: [100, 100, 100, 8000] },
  });
  const d = c.decide(input(readings({
    cur_dl_rate: 10000,
    cur_ul_rate: 10000,
    dl_bytes: 312500, // 5000 kbit/s: load 0.5
    ul_bytes: 312500,
    dl_deltas: [20, 20, 20, 20, 20],
    ul_deltas: [20, 20, 20, 20, 20],
  })));
  // Upload draws first: index floor(0.25 × 4) = 1 → 3000 < 4500.
  assertEquals(d.next_ul_rate, 3000);
  // Download: index 3 (the last slot, which Lua could never draw) → min(4500, 8000).
  assertEquals(d.next_dl_rate, 4500);
});

Deno.test("ewma: histsize 1 still caps a decrease by the single safe rate", () => {
  const s = settingsWithDefaults({ base_dl_rate: 20000, base_ul_rate: 20000, histsize: 1 });
  const c = new EwmaController(s, scripted([0.9, 0.9]), {
    rings: { up: [1234.5], down: [99999] },
  });
  const d = c.decide(input(readings({
    cur_dl_rate: 10000,
    cur_ul_rate: 10000,
    dl_bytes: 625000,
    ul_bytes: 625000,
    dl_deltas: [30],
    ul_deltas: [30],
  })));
  assertEquals(d.next_ul_rate, 1234.5);
  assertEquals(d.next_dl_rate, 9000);
});

Deno.test("ewma: no change when delay is between rules, at the threshold or load is low", () => {
  const s = settingsWithDefaults({ base_dl_rate: 20000, base_ul_rate: 20000, histsize: 4 });
  const ring = [15000, 15000, 15000, 15000];
  // No random values available: a decrease would throw.
  const c = new EwmaController(s, scripted([]), { rings: { up: ring, down: ring } });
  const before = [...c.speedHistory().down];
  const rd = readings({
    cur_dl_rate: 10000,
    cur_ul_rate: 10000,
    dl_bytes: 625000,
    ul_bytes: 100,
    dl_deltas: [15, 15, 15, 15, 15], // exactly at the threshold: hold
    ul_deltas: [1, 1, 1, 1, 1], // low delay but load ≈ 0: hold
  });
  const d = c.decide(input(rd));
  assertEquals(d, { next_dl_rate: 10000, next_ul_rate: 10000 });
  assertEquals([...c.speedHistory().down], before);
});

Deno.test("ewma: thresholds come from the input, not the settings", () => {
  const s = settingsWithDefaults({ base_dl_rate: 20000, base_ul_rate: 20000, histsize: 4 });
  const ring = [15000, 15000, 15000, 15000];
  const c = new EwmaController(s, () => 0, { rings: { up: ring, down: ring } });
  const rd = readings({
    cur_dl_rate: 10000,
    cur_ul_rate: 10000,
    dl_bytes: 625000,
    ul_bytes: 625000,
    dl_deltas: [10, 10, 10, 10, 10],
    ul_deltas: [10, 10, 10, 10, 10],
  });
  // Delay 10 ms: below 15 → increase; with a plugin threshold of 5 → decrease.
  const inc = c.decide(input(rd, 15, 15));
  assert(inc.next_dl_rate > 10000 && inc.next_ul_rate > 10000);
  const dec = c.decide(input(rd, 5, 5));
  assert(dec.next_dl_rate < 10000 && dec.next_ul_rate < 10000);
});

Deno.test("ewma property: proposals are finite and non-negative; decrease never above cur × load", () => {
  fc.assert(fc.property(
    fc.integer({ min: 10, max: 1_000_000 }),
    fc.integer({ min: 1, max: 50 }),
    fc.double({ min: 0, max: 3, noNaN: true }),
    fc.double({ min: 0, max: 100, noNaN: true }),
    fc.integer({ min: 0, max: 2 ** 31 }),
    (base, histsize, load, delay, seed) => {
      const s = settingsWithDefaults({ base_dl_rate: base, base_ul_rate: base, histsize });
      const c = new EwmaController(s, seededRandom(seed));
      const cur = base * 0.6;
      const rd = readings({
        cur_dl_rate: cur,
        cur_ul_rate: cur,
        dl_bytes: load * cur * 0.5 / 0.008,
        ul_bytes: load * cur * 0.5 / 0.008,
        dl_deltas: [delay, delay, delay],
        ul_deltas: [delay, delay, delay],
      });
      const d = c.decide(input(rd));
      for (const v of [d.next_dl_rate, d.next_ul_rate]) {
        assert(Number.isFinite(v) && v >= 0, `bad proposal ${v}`);
        if (delay > 15) assert(v <= 0.9 * cur * rd.rx_load + 1e-6);
        if (delay < 15 && rd.rx_load > s.high_load_level) assert(v >= cur + base * 0.03 - 1e-6);
      }
    },
  ));
});
