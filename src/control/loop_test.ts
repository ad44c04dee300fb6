import fc from "fast-check";
import { assert, assertEquals } from "../util/assert.ts";
import { settingsWithDefaults } from "../config/defaults.ts";
import type { TableSettings } from "../config/settings_table.ts";
import { createOwdState } from "../baseline/owd_state.ts";
import type { CounterReading, OwdState } from "./ports.ts";
import { seededRandom, VirtualClock } from "../util/clock.ts";
import { MemoryShaper } from "../apply/memory.ts";
import { EwmaController } from "../ratecontroller/ewma.ts";
import type {
  RateAdjuster,
  Ratecontroller,
  RateDecision,
  TickInput,
} from "./ratecontroller_port.ts";
import { FileStatsSink } from "../report/stats.ts";
import { MemoryFileStore } from "../report/store.ts";
import { ControlLoop } from "./loop.ts";
import { runControlLoop } from "./driver.ts";
import { configureLogging, resetLogging } from "../log/mod.ts";

const PEERS = ["p1", "p2", "p3", "p4", "p5"];

/** Sets fresh OWD entries whose deltas are the given values (baseline 10, recent 10 + d). */
function setDeltas(owd: OwdState, now: number, dl: number[], ul: number[], peers = PEERS): void {
  peers.forEach((ip, i) => {
    owd.baseline.set(ip, { up_ewma: 10, down_ewma: 10, last_receive_time_s: now });
    owd.recent.set(ip, {
      up_ewma: 10 + (ul[i] ?? 0),
      down_ewma: 10 + (dl[i] ?? 0),
      last_receive_time_s: now,
    });
  });
}

/** Counters the test moves by hand; `null` = unreadable. */
class FakeCounters {
  value: CounterReading | null = { dlBytes: 0, ulBytes: 0, dlIfindex: 1, ulIfindex: 2 };
  reads = 0;
  read(): Promise<CounterReading | null> {
    this.reads++;
    return Promise.resolve(this.value === null ? null : { ...this.value });
  }
  add(dl: number, ul: number): void {
    if (this.value === null) throw new Error("unreadable");
    this.value = {
      ...this.value,
      dlBytes: this.value.dlBytes + dl,
      ulBytes: this.value.ulBytes + ul,
    };
  }
}

function fixture(
  overrides: Partial<TableSettings> = {},
  options: { controller?: Ratecontroller; adjusters?: RateAdjuster[]; wallOriginMs?: number } = {},
) {
  const settings = settingsWithDefaults({
    base_dl_rate: 100000,
    base_ul_rate: 20000,
    ...overrides,
  });
  const clock = new VirtualClock(100, { wallOriginMs: options.wallOriginMs });
  const owd = createOwdState(PEERS);
  const reselects: string[] = [];
  const counters = new FakeCounters();
  const dl = new MemoryShaper("ifb4wan");
  const ul = new MemoryShaper("wan");
  const store = new MemoryFileStore();
  const stats = new FileStatsSink(settings, { store, flushEveryRows: 1 });
  const controller = options.controller ?? new EwmaController(settings, () => 0.5);
  const loop = new ControlLoop({
    settings,
    clock,
    owd,
    reselect: { requestReselect: (r) => reselects.push(r) },
    controller,
    adjusters: options.adjusters,
    counters,
    shaper: { dl, ul },
    stats,
  });
  return { settings, clock, owd, reselects, counters, dl, ul, store, stats, loop };
}

/** A controller proposing fixed rates and recording its inputs. */
function fixedController(dl: number, ul: number) {
  const inputs: TickInput[] = [];
  const c: Ratecontroller & { dl: number; ul: number } = {
    name: "fixed",
    dl,
    ul,
    decide(input) {
      inputs.push(input);
      return { next_dl_rate: c.dl, next_ul_rate: c.ul };
    },
  };
  return { c, inputs };
}

Deno.test("loop: docs/algorithm.md §9 worked example end to end (rates, tc order, stats row)", async () => {
  const s = settingsWithDefaults({ base_dl_rate: 100000, base_ul_rate: 20000 });
  const down = new Array(100).fill(80000);
  down[37] = 94812.3;
  const up = new Array(100).fill(17000);
  up[50] = 16204.7;
  const controller = new EwmaController(s, () => 0.5, { rings: { up, down } });
  // Wall clock at the tick: 1700000000.123 s.
  const f = fixture({}, { controller, wallOriginMs: 1700000000123 - 100500 });
  await f.loop.start();
  assertEquals(f.dl.history, [60000]);
  assertEquals(f.ul.history, [12000]);
  f.clock.advance(0.5);
  setDeltas(f.owd, f.clock.monotonicS(), [0.4, 1.2, 2.5, 3.1, 9.8], [1.0, 4.0, 18.0, 22.0, 30.0]);
  f.counters.add(3375000, 450000);
  const r = await f.loop.tick();
  assertEquals(r.path, "normal");
  assertEquals(r.readings?.rx_load, 0.9);
  assertEquals(r.readings?.tx_load, 0.6);
  assertEquals([r.next_dl_rate, r.next_ul_rate], [65203, 6480]);
  assertEquals(f.dl.history, [60000, 65203]);
  assertEquals(f.ul.history, [12000, 6480]);
  await f.stats.flush();
  const lines = f.store.files.get(s.stats_file)!.trim().split("\n");
  assertEquals(lines, [
    "times,timens,rxload,txload,deltadelaydown,deltadelayup,dlrate,uprate",
    "1700000000,123000000,0.900000,0.600000,2.500000,18.000000,65203,6480",
  ]);
  assertEquals(f.reselects, []);
});

Deno.test("loop: replies taken in while the counters are read count in the same tick", async () => {
  // The daemon's busy wait blocks the thread; the replies that arrived meanwhile are read in the
  // tick's first turn of the event loop, the counter reading (docs/footprint.md, "CPU under load").
  const f = fixture();
  await f.loop.start();
  f.clock.advance(0.5);
  const read = f.counters.read.bind(f.counters);
  f.counters.read = () => {
    setDeltas(f.owd, f.clock.monotonicS(), [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]);
    return read();
  };
  f.counters.add(3_000_000, 500_000);
  const r = await f.loop.tick();
  assertEquals(r.path, "normal", "the fresh replies are seen, not 'no-deltas'");
  assertEquals(f.loop.state.fresh, 5);
  assertEquals(f.reselects, []);
});

Deno.test("loop: rates are applied only when they change", async () => {
  const { c } = fixedController(50000, 10000);
  const f = fixture({}, { controller: c });
  await f.loop.start();
  for (let i = 0; i < 5; i++) {
    f.clock.advance(0.5);
    setDeltas(f.owd, f.clock.monotonicS(), [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]);
    const r = await f.loop.tick();
    assertEquals(r.applied, { dl: i === 0, ul: i === 0 });
  }
  assertEquals(f.dl.history, [60000, 50000]);
  assertEquals(f.ul.history, [12000, 10000]);
  assertEquals(f.dl.calls, 2);
});

Deno.test("loop: a steady rate is set again as it is every SHAPER_REFRESH_S", async () => {
  const { c } = fixedController(50000, 10000);
  const f = fixture({}, { controller: c });
  await f.loop.start();
  const refreshed: number[] = [];
  for (let i = 1; i <= 50; i++) {
    f.clock.advance(0.5);
    setDeltas(f.owd, f.clock.monotonicS(), [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]);
    const r = await f.loop.tick();
    if (i > 1 && r.applied.dl) refreshed.push(i * 0.5);
    assertEquals(r.applied.dl, r.applied.ul);
  }
  // Set at 0.5 s; then again 10 s after each setting, at the same rates.
  assertEquals(refreshed, [10.5, 20.5]);
  assertEquals(f.dl.history, [60000, 50000, 50000, 50000]);
  assertEquals(f.ul.history, [12000, 10000, 10000, 10000]);
});

Deno.test("loop: no fresh deltas → both minimum, reselection asked, no stats row", async () => {
  const f = fixture();
  await f.loop.start();
  f.clock.advance(0.5);
  setDeltas(f.owd, f.clock.monotonicS(), [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]);
  f.counters.add(1000, 1000);
  assertEquals((await f.loop.tick()).path, "normal");
  f.clock.advance(5);
  setDeltas(f.owd, f.clock.monotonicS(), [1, 1], [1, 1], ["p1", "p2"]);
  f.counters.add(1000, 1000);
  const few = await f.loop.tick();
  assertEquals(few.path, "normal");
  assertEquals(f.reselects.length, 1);
  f.clock.advance(5);
  const r = await f.loop.tick();
  assertEquals(r.path, "no-deltas");
  assertEquals([r.next_dl_rate, r.next_ul_rate], [20000, 4000]);
  assertEquals(f.dl.rate, 20000);
  assertEquals(f.ul.rate, 4000);
  assertEquals(f.reselects.length, 2);
  await f.stats.flush();
  assertEquals(
    f.store.files.get(f.settings.stats_file)!.trim().split("\n").length,
    3,
    "header + the two normal ticks only",
  );
});

Deno.test("loop: at the start, reflectors yet to answer are no outage (bounded); none at all holds", async () => {
  const f = fixture();
  await f.loop.start();
  const startRates = [f.dl.rate, f.ul.rate];
  // 0.1 s in, no reply yet: hold the start rates instead of the no-delta path's minimum.
  f.clock.advance(0.1);
  f.counters.add(1000, 1000);
  assertEquals((await f.loop.tick()).path, "hold");
  assertEquals([f.dl.rate, f.ul.rate], startRates);
  // Two reflectors have answered: decide on them, ask for no reselection.
  f.clock.advance(0.1);
  setDeltas(f.owd, f.clock.monotonicS(), [1, 1], [1, 1], ["p1", "p2"]);
  f.counters.add(1000, 1000);
  assertEquals((await f.loop.tick()).path, "normal");
  assertEquals(f.reselects.length, 0);
  // All five answered once: from now on too few is an outage again.
  f.clock.advance(0.1);
  setDeltas(f.owd, f.clock.monotonicS(), [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]);
  f.counters.add(1000, 1000);
  await f.loop.tick();
  f.clock.advance(1.5);
  setDeltas(f.owd, f.clock.monotonicS(), [1, 1], [1, 1], ["p1", "p2"]);
  f.counters.add(1000, 1000);
  await f.loop.tick();
  assertEquals(f.reselects.length, 1);

  // Reflectors that never all answer: after the bound (2 s here) it is an outage as usual.
  const g = fixture();
  await g.loop.start();
  g.clock.advance(1.9);
  setDeltas(g.owd, g.clock.monotonicS(), [1, 1], [1, 1], ["p1", "p2"]);
  g.counters.add(1000, 1000);
  await g.loop.tick();
  assertEquals(g.reselects.length, 0);
  g.clock.advance(0.1);
  setDeltas(g.owd, g.clock.monotonicS(), [1, 1], [1, 1], ["p1", "p2"]);
  g.counters.add(1000, 1000);
  assertEquals((await g.loop.tick()).path, "normal");
  assertEquals(g.reselects.length, 1);
});

Deno.test("loop: a decision below the minimum is clamped to it; above the cap to the cap", async () => {
  const { c } = fixedController(5, 1e9);
  const f = fixture({ max_ul_rate: 25000 }, { controller: c });
  await f.loop.start();
  f.clock.advance(0.5);
  setDeltas(f.owd, f.clock.monotonicS(), [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]);
  const r = await f.loop.tick();
  assertEquals([r.next_dl_rate, r.next_ul_rate], [20000, 25000]);
});

Deno.test("loop: EWMA high delay at low load drops to the minimum", async () => {
  const f = fixture();
  await f.loop.start();
  f.clock.advance(0.5);
  setDeltas(f.owd, f.clock.monotonicS(), [50, 50, 50, 50, 50], [50, 50, 50, 50, 50]);
  f.counters.add(1000, 1000);
  const r = await f.loop.tick();
  assertEquals([r.next_dl_rate, r.next_ul_rate], [20000, 4000]);
});

Deno.test("loop: a failing shaper is logged, the loop goes on, and it is retried", async () => {
  const { c } = fixedController(50000, 10000);
  const f = fixture({}, { controller: c });
  await f.loop.start();
  f.dl.failing = true;
  f.clock.advance(0.5);
  setDeltas(f.owd, f.clock.monotonicS(), [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]);
  const r1 = await f.loop.tick();
  assertEquals(r1.applied, { dl: false, ul: true });
  assertEquals(f.loop.state.cur_dl_rate, 60000, "cur stays at the old rate");
  assertEquals(f.loop.state.shaperFailures, 1);
  f.dl.failing = false;
  f.clock.advance(0.5);
  setDeltas(f.owd, f.clock.monotonicS(), [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]);
  const r2 = await f.loop.tick();
  assertEquals(r2.applied, { dl: true, ul: false });
  assertEquals(f.dl.history, [60000, 50000]);
  assertEquals(f.loop.state.cur_dl_rate, 50000);
});

Deno.test("loop: a failing start is retried even when the next decision equals it", async () => {
  const { c } = fixedController(60000, 12000);
  const f = fixture({}, { controller: c });
  f.dl.failing = true;
  await f.loop.start();
  f.dl.failing = false;
  f.clock.advance(0.5);
  setDeltas(f.owd, f.clock.monotonicS(), [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]);
  const r = await f.loop.tick();
  assertEquals(r.applied.dl, true);
  assertEquals(f.dl.history, [60000]);
});

Deno.test("loop: unreadable counters hold the rates; the next load spans the whole gap", async () => {
  const { c, inputs } = fixedController(50000, 10000);
  const f = fixture({}, { controller: c });
  await f.loop.start();
  f.counters.value = null;
  f.clock.advance(0.5);
  setDeltas(f.owd, f.clock.monotonicS(), [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]);
  const held = await f.loop.tick();
  assertEquals(held.path, "hold");
  assertEquals([held.next_dl_rate, held.next_ul_rate], [60000, 12000]);
  assertEquals(inputs.length, 0);
  f.counters.value = { dlBytes: 750000, ulBytes: 0, dlIfindex: 1, ulIfindex: 2 };
  f.clock.advance(0.5);
  setDeltas(f.owd, f.clock.monotonicS(), [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]);
  const r = await f.loop.tick();
  assertEquals(r.path, "normal");
  assertEquals(r.readings?.dt, 1);
  assertEquals(r.readings?.down_utilisation, 6000); // 0.008 × 750000 / 1 s
});

Deno.test("loop: each load is timed by its read, the midpoint of the clock around it (v84)", async () => {
  // The reader samples the counters halfway through a read that takes a varying time, as the
  // daemon's `ip` coprocess on a busy machine (docs/controllers.md, "v84"). A steady 10 MB/s
  // download then reads 80000 kbit/s in every decision; timed by the tick alone, a slow read
  // lifts one load and lowers the next. A hold in between (unreadable counters) and the idle
  // detector's interval move with the same reference.
  const { c, inputs } = fixedController(60000, 12000);
  const f = fixture({}, { controller: c });
  const bytesPerS = 10_000_000;
  let delayS = 0;
  let unreadable = false;
  f.counters.read = () => {
    f.clock.advance(delayS);
    const at = f.clock.monotonicS() - 100;
    f.clock.advance(delayS);
    return Promise.resolve(
      unreadable
        ? null
        : { dlBytes: Math.round(at * bytesPerS), ulBytes: 0, dlIfindex: 1, ulIfindex: 2 },
    );
  };
  await f.loop.start();
  const delaysMs = [0, 6, 0.5, 9, 1, 0, 4, NaN, 2, 7]; // NaN: unreadable
  for (const ms of delaysMs) {
    unreadable = Number.isNaN(ms);
    delayS = unreadable ? 0.003 : ms / 1000;
    f.clock.advance(0.5);
    setDeltas(f.owd, f.clock.monotonicS(), [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]);
    const r = await f.loop.tick();
    assertEquals(r.path, unreadable ? "hold" : "normal");
    const kbit = r.readings?.down_utilisation ?? 80000;
    assert(Math.abs(kbit / 80000 - 1) < 1e-5, `${ms} ms: ${kbit} kbit/s`);
  }
  assertEquals(inputs.length, delaysMs.length - 1);
});

Deno.test("loop: a reading whose read took long is decided on over a longer span but is not the next load's reference (v87, v105)", async () => {
  // Reads of 2 ms, sampled halfway, but every fourth 40 ms with the sample at its start (a
  // round trip's jitter over a slow management link: docs/controllers.md, "v87"). A steady
  // 10 MB/s download reads 80000 kbit/s except in the slow read's own decision; the decision
  // after it measures from the reading before it (main before v87: a second wrong load).
  const { c, inputs } = fixedController(60000, 12000);
  const f = fixture({}, { controller: c });
  const bytesPerS = 10_000_000;
  let legsS = [0.001, 0.001];
  f.counters.read = () => {
    f.clock.advance(legsS[0]);
    const at = f.clock.monotonicS() - 100;
    f.clock.advance(legsS[1]);
    return Promise.resolve({
      dlBytes: Math.round(at * bytesPerS),
      ulBytes: 0,
      dlIfindex: 1,
      ulIfindex: 2,
    });
  };
  await f.loop.start();
  const loads: number[] = [];
  const dts: number[] = [];
  for (let i = 1; i <= 12; i++) {
    legsS = i % 4 === 0 ? [0, 0.04] : [0.001, 0.001];
    f.clock.advance(0.1 - legsS[0] - legsS[1]);
    setDeltas(f.owd, f.clock.monotonicS(), [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]);
    const r = await f.loop.tick();
    assertEquals(r.path, "normal");
    loads.push(Math.round(r.readings!.down_utilisation));
    dts.push(Math.round(r.readings!.dt * 1000));
  }
  assertEquals(inputs.length, 12);
  // The slow reads' own decisions (4, 8, 12) read low (their reading stands 20 ms late), but
  // measured from far enough back for their own uncertainty (v105) by a few per cent only (75801
  // to 78184 kbit/s; 60247 with v96's mean uncertainty, over one decision), and the ones after
  // them exact.
  for (const [i, kbit] of loads.entries()) {
    const low = kbit < 80000 && kbit > 0.9 * 80000;
    if ((i + 1) % 4 === 0) assert(low, `decision ${i + 1}: ${loads.join(" ")}`);
    else assertEquals(kbit, 80000, `decision ${i + 1}: ${loads.join(" ")}`);
  }
  // Each decision's own dt still runs from the decision before.
  assert(dts.every((ms) => ms >= 80 && ms <= 120), dts.join(" "));
});

/**
 * A loop whose counters are read over a jittery management link: each read's two legs take 20 ms
 * plus an exponential of mean 7.7 ms (the simulator's `20.4+7.7:read`, as measured over a 50 ms
 * round trip with jitter: docs/remote.md), the router sampling between them; the download moves
 * `bytesAt(s)` bytes by time s. Returns each decision's download throughput, kbit/s.
 */
async function jitteryLoads(
  bytesAt: (s: number) => number,
  decisions: number,
  x: { leg?: (random: () => number) => number } = {},
): Promise<number[]> {
  const { c } = fixedController(60000, 12000);
  const f = fixture({}, { controller: c });
  const random = seededRandom(7);
  const leg = x.leg === undefined
    ? () => 0.020 - 0.0077 * Math.log(1 - random())
    : () => x.leg!(random);
  f.counters.read = () => {
    f.clock.advance(leg());
    const at = f.clock.monotonicS() - 100;
    f.clock.advance(leg());
    return Promise.resolve({
      dlBytes: Math.round(bytesAt(at)),
      ulBytes: 0,
      dlIfindex: 1,
      ulIfindex: 2,
    });
  };
  await f.loop.start();
  const loads: number[] = [];
  // A tick every 0.1 s, or at once after one that took longer (the driver's schedule, v87).
  let startS = f.clock.monotonicS();
  for (let i = 1; i <= decisions; i++) {
    f.clock.advance(Math.max(0, startS + 0.1 - f.clock.monotonicS()));
    startS = f.clock.monotonicS();
    setDeltas(f.owd, startS, [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]);
    const r = await f.loop.tick();
    assertEquals(r.path, "normal");
    loads.push(r.readings!.down_utilisation);
  }
  return loads;
}

Deno.test("loop: over a jittery read each load spans enough decisions to be within a few per cent (v96)", async () => {
  // A steady 10 MB/s (80000 kbit/s). Each decision's own load is off by the difference of its two
  // readings' errors, half the difference of each read's legs: rms 4.0 % here before v96 (v87
  // already keeps the worst readings from being references); measured from a reading far enough
  // back (ReadSpan's uncertainty / 2.5 %), 1.6 %.
  const loads = await jitteryLoads((s) => s * 10_000_000, 300);
  const errors = loads.slice(100).map((kbit) => kbit / 80000 - 1);
  const rms = Math.sqrt(errors.reduce((sum, e) => sum + e * e, 0) / errors.length);
  assert(rms < 0.025, `rms error ${(100 * rms).toFixed(2)} %`);
});

Deno.test("loop: over a link with slow spells a load ending in one spans more decisions (v105)", async () => {
  // A steady 10 MB/s (80000 kbit/s) over legs of the same 7.7 ms mean jitter, but a fifth of them,
  // in runs of 20 legs (about a second), slow (19.3 ms mean against 4.8: src/sim/read_bursts.ts's
  // `20.4+7.7@0.2/20/4`). With the recent reads' mean as every load's uncertainty (v96) a load
  // that ends in a slow spell is as short as any other, and its change rule takes the short
  // load's error for a change: rms error 2.50 %; with its end's own uncertainty 1.36 %.
  let slow = false;
  const loads = await jitteryLoads((s) => s * 10_000_000, 600, {
    leg: (random) => {
      slow = slow ? random() >= 1 / 20 : random() < 0.2 / (20 * 0.8);
      return 0.0204 - (slow ? 0.0193 : 0.0048) * Math.log(1 - random());
    },
  });
  const errors = loads.slice(100).map((kbit) => kbit / 80000 - 1);
  const rms = Math.sqrt(errors.reduce((sum, e) => sum + e * e, 0) / errors.length);
  assert(rms < 0.019, `rms error ${(100 * rms).toFixed(2)} %`);
});

Deno.test("loop: over a jittery read a load that changes is seen within two decisions after it (v96, v105)", async () => {
  // 1 MB/s, then 10 MB/s from 20 s on: a decision soon after the one the step falls in reads the
  // new load within the jitter, not a mean with the old one over the longer span (38437 kbit/s
  // without `loadChanged`). The first whose last span lies after the step does unless its own
  // read is so slow that the change lies within what it could be off by (v105): here 58250 then
  // 80505 (81115 at once with v96's mean uncertainty).
  const stepS = 20;
  const loads = await jitteryLoads(
    (s) => 1_000_000 * s + 9_000_000 * Math.max(0, s - stepS),
    250,
  );
  // The decisions after the step (about 10 a second).
  const after = loads.map((kbit, i) => ({ kbit, i })).filter((x) => x.kbit > 40000);
  assert(after.length > 0, "the step is seen");
  const first = after[0].i;
  assert(
    loads[first + 2] > 0.9 * 80000,
    `decisions after the step: ${loads.slice(first, first + 4).map(Math.round).join(" ")}`,
  );
});

Deno.test("loop: a counter reset (decrease or new ifindex) counts as 0 bytes, not a huge load", async () => {
  const { c, inputs } = fixedController(60000, 12000);
  const f = fixture({}, { controller: c });
  f.counters.value = { dlBytes: 1e12, ulBytes: 5e11, dlIfindex: 1, ulIfindex: 2 };
  await f.loop.start();
  f.counters.value = { dlBytes: 1000, ulBytes: 5e11 + 1e6, dlIfindex: 1, ulIfindex: 9 };
  f.clock.advance(0.5);
  setDeltas(f.owd, f.clock.monotonicS(), [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]);
  await f.loop.tick();
  assertEquals(inputs[0].readings.dl_bytes, 0);
  assertEquals(inputs[0].readings.rx_load, 0);
  assertEquals(inputs[0].readings.ul_bytes, 0, "new ifindex = recreated interface");
  f.counters.add(62500, 0);
  f.clock.advance(0.5);
  setDeltas(f.owd, f.clock.monotonicS(), [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]);
  await f.loop.tick();
  assertEquals(inputs[1].readings.dl_bytes, 62500, "counting resumes from the new value");
});

Deno.test("loop: a 32-bit counter that wraps counts the bytes across it; a reset still counts 0", async () => {
  const { c, inputs } = fixedController(60000, 12000);
  const f = fixture({}, { controller: c });
  const lines: string[] = [];
  configureLogging("DEBUG", { sink: (r) => lines.push(r.message.join("")) });
  try {
    f.counters.value = {
      dlBytes: 2 ** 32 - 50_000,
      ulBytes: 2 ** 32 - 100,
      dlIfindex: 1,
      ulIfindex: 2,
    };
    await f.loop.start();
    // 62 500 bytes each way in 0.5 s (1 Mbit/s) across the wrap, as a 32-bit driver reports it.
    f.counters.value = { dlBytes: 12_500, ulBytes: 62_400, dlIfindex: 1, ulIfindex: 2 };
    f.clock.advance(0.5);
    setDeltas(f.owd, f.clock.monotonicS(), [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]);
    await f.loop.tick();
    assertEquals([inputs[0].readings.dl_bytes, inputs[0].readings.ul_bytes], [62_500, 62_500]);
    assertEquals(inputs[0].readings.down_utilisation, 1000);
    assertEquals(lines.filter((l) => l.includes("counter was reset")), [], "a wrap is no reset");
    // Zeroed far below the top (a driver's reset): no wrap could move 4 GB in 0.5 s here.
    f.counters.value = { dlBytes: 1_000, ulBytes: 62_400, dlIfindex: 1, ulIfindex: 2 };
    f.clock.advance(0.5);
    setDeltas(f.owd, f.clock.monotonicS(), [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]);
    await f.loop.tick();
    assertEquals(inputs[1].readings.dl_bytes, 0);
    assertEquals(lines.filter((l) => l.includes("download byte counter was reset")).length, 1);
  } finally {
    resetLogging();
  }
});

Deno.test("loop: adjusters chain, thresholds persist into the next tick, bad results ignored", async () => {
  const { c, inputs } = fixedController(50000, 10000);
  const seen: number[] = [];
  const adjusters: RateAdjuster[] = [
    {
      name: "boom",
      adjust: () => {
        throw new Error("lua error");
      },
    },
    {
      name: "a",
      adjust: (i) => {
        seen.push(i.next_dl_rate);
        return {
          next_dl_rate: i.next_dl_rate + 1000,
          dl_max_delta_owd: 7.5,
          ul_max_delta_owd: NaN,
        };
      },
    },
    {
      name: "b",
      adjust: (i) => {
        seen.push(i.next_dl_rate, i.dl_max_delta_owd);
        return { next_ul_rate: -5, next_dl_rate: Math.ceil(i.next_dl_rate / 3000) * 3000 };
      },
    },
  ];
  const f = fixture({}, { controller: c, adjusters });
  await f.loop.start();
  f.clock.advance(0.5);
  setDeltas(f.owd, f.clock.monotonicS(), [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]);
  const r = await f.loop.tick();
  assertEquals(seen, [50000, 51000, 7.5]);
  assertEquals([r.next_dl_rate, r.next_ul_rate], [51000, 10000]);
  assertEquals(f.loop.state.dl_max_delta_owd, 7.5);
  assertEquals(f.loop.state.ul_max_delta_owd, 15);
  assertEquals(inputs[0].dl_max_delta_owd, 15, "this tick's controller saw the old threshold");
  f.clock.advance(0.5);
  setDeltas(f.owd, f.clock.monotonicS(), [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]);
  await f.loop.tick();
  assertEquals(inputs[1].dl_max_delta_owd, 7.5, "the next tick's controller sees the new one");
});

Deno.test("loop: a throwing or invalid controller holds the rates", async () => {
  let mode = "throw";
  const c: Ratecontroller = {
    name: "bad",
    decide: () => {
      if (mode === "throw") throw new Error("boom");
      return { next_dl_rate: NaN, next_ul_rate: 9000 };
    },
  };
  const f = fixture({}, { controller: c });
  await f.loop.start();
  f.clock.advance(0.5);
  setDeltas(f.owd, f.clock.monotonicS(), [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]);
  const r1 = await f.loop.tick();
  assertEquals([r1.next_dl_rate, r1.next_ul_rate], [60000, 12000]);
  mode = "nan";
  f.clock.advance(0.5);
  setDeltas(f.owd, f.clock.monotonicS(), [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]);
  const r2 = await f.loop.tick();
  assertEquals([r2.next_dl_rate, r2.next_ul_rate], [60000, 9000]);
});

Deno.test("loop: a controller answering with a promise or a thenable is awaited; a rejection holds", async () => {
  // A synchronous decision is taken without an await (docs/footprint.md, "Fourteenth session");
  // the other forms a controller may answer with must still work the same.
  let mode = "promise";
  const c: Ratecontroller = {
    name: "async",
    decide: (): RateDecision | Promise<RateDecision> => {
      const d = { next_dl_rate: 50000, next_ul_rate: 10000, reselect: true };
      if (mode === "promise") return Promise.resolve(d);
      if (mode === "reject") return Promise.reject(new Error("boom"));
      // A thenable that is not a Promise (what `await` accepts as well).
      return {
        then: (ok: (v: RateDecision) => void) => ok({ ...d, next_dl_rate: 55000 }),
      } as unknown as Promise<RateDecision>;
    },
  };
  const f = fixture({}, { controller: c });
  await f.loop.start();
  const tick = async () => {
    f.clock.advance(0.5);
    setDeltas(f.owd, f.clock.monotonicS(), [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]);
    return await f.loop.tick();
  };
  const r1 = await tick();
  assertEquals([r1.next_dl_rate, r1.next_ul_rate], [50000, 10000]);
  assertEquals(f.reselects.length, 1, "the asynchronous decision's reselection request is taken");
  mode = "thenable";
  const r2 = await tick();
  assertEquals([r2.next_dl_rate, r2.next_ul_rate], [55000, 10000]);
  mode = "reject";
  const r3 = await tick();
  assertEquals([r3.next_dl_rate, r3.next_ul_rate], [55000, 10000], "held");
});

Deno.test("loop: speed history dumped at start (time 0) and then every 300 s", async () => {
  const f = fixture({ histsize: 3 });
  await f.loop.start();
  for (let i = 0; i < 700; i++) {
    f.clock.advance(0.5);
    setDeltas(f.owd, f.clock.monotonicS(), [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]);
    await f.loop.tick();
  }
  await f.stats.flush();
  const rows = f.store.files.get(f.settings.speedhist_file)!.trim().split("\n").slice(1);
  const times = [...new Set(rows.map((r) => r.split(",")[0]))];
  assertEquals(times, ["0.000000", "300.500000"]);
  assertEquals(rows.length, 6);
  assertEquals(rows[1].split(",")[1], "1");
});

Deno.test("loop property: rates stay integers within [min, cap]; controller sees adjusted thresholds", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 100, max: 1_000_000 }),
      fc.integer({ min: 1, max: 80 }),
      fc.integer({ min: 0, max: 3 }),
      fc.array(
        fc.record({
          dlLoad: fc.double({ min: 0, max: 2, noNaN: true }),
          ulLoad: fc.double({ min: 0, max: 2, noNaN: true }),
          delay: fc.double({ min: 0, max: 60, noNaN: true }),
          fresh: fc.integer({ min: 0, max: 5 }),
          thr: fc.double({ min: 0.5, max: 40, noNaN: true }),
        }),
        { minLength: 1, maxLength: 40 },
      ),
      async (base, minPct, capMul, steps) => {
        const cap = capMul === 0 ? 0 : Math.round(base * (0.5 + capMul * 0.5));
        let nextThr = 15;
        const seenThr: number[] = [];
        const expectedThr: number[] = [];
        const ewmaSettings = settingsWithDefaults({ base_dl_rate: base, base_ul_rate: base });
        const ewma = new EwmaController(ewmaSettings, () => 0.3);
        const spy: Ratecontroller = {
          name: "spy",
          speedHistory: () => ewma.speedHistory(),
          decide: (i) => {
            seenThr.push(i.dl_max_delta_owd);
            return ewma.decide(i);
          },
        };
        const adj: RateAdjuster = { name: "thr", adjust: () => ({ dl_max_delta_owd: nextThr }) };
        const f = fixture({
          base_dl_rate: base,
          base_ul_rate: base,
          dl_min_percent: minPct,
          ul_min_percent: minPct,
          max_dl_rate: cap,
          max_ul_rate: cap,
        }, { controller: spy, adjusters: [adj] });
        const min = f.settings.min_dl_rate;
        await f.loop.start();
        let thrInForce = 15;
        for (const st of steps) {
          f.clock.advance(0.5);
          const d = Array(st.fresh).fill(st.delay);
          setDeltas(f.owd, f.clock.monotonicS(), d, d, PEERS.slice(0, st.fresh));
          const cur = f.loop.state;
          f.counters.add(
            st.dlLoad * cur.cur_dl_rate * 0.5 / 0.008,
            st.ulLoad * cur.cur_ul_rate * 0.5 / 0.008,
          );
          nextThr = st.thr;
          const r = await f.loop.tick();
          if (r.path === "normal") {
            expectedThr.push(thrInForce);
            thrInForce = st.thr;
          }
          for (
            const v of [
              r.next_dl_rate,
              r.next_ul_rate,
              f.loop.state.cur_dl_rate,
              f.loop.state.cur_ul_rate,
            ]
          ) {
            assert(Number.isInteger(v), `not an integer: ${v}`);
            assert(v >= Math.max(1, min), `below minimum: ${v} < ${min}`);
            if (cap > 0) assert(v <= Math.max(cap, min), `above cap: ${v} > ${cap}`);
          }
        }
        assertEquals(seenThr, expectedThr);
      },
    ),
    { numRuns: 100 },
  );
});

Deno.test("driver: ticks every interval in virtual time until aborted", async () => {
  const { c } = fixedController(50000, 10000);
  const f = fixture({}, { controller: c });
  await f.loop.start();
  const ac = new AbortController();
  const tickTimes: number[] = [];
  await runControlLoop(f.loop, {
    signal: ac.signal,
    clock: f.clock,
    intervalS: 0.5,
    sleep: (ms) => {
      f.clock.advance(ms / 1000);
      setDeltas(f.owd, f.clock.monotonicS(), [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]);
      tickTimes.push(f.clock.monotonicS());
      if (tickTimes.length === 4) ac.abort();
      return Promise.resolve();
    },
  });
  assertEquals(tickTimes, [100.5, 101, 101.5, 102]);
  assertEquals(f.loop.state.ticks, 3, "the tick after the abort does not run");
});

Deno.test("driver: an interval function is asked before each wait (idle mode slows the loop)", async () => {
  const { c } = fixedController(50000, 10000);
  const f = fixture({}, { controller: c });
  await f.loop.start();
  const ac = new AbortController();
  const tickTimes: number[] = [];
  await runControlLoop(f.loop, {
    signal: ac.signal,
    clock: f.clock,
    intervalS: () => (tickTimes.length < 2 ? 0.5 : 2),
    sleep: (ms) => {
      f.clock.advance(ms / 1000);
      setDeltas(f.owd, f.clock.monotonicS(), [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]);
      tickTimes.push(f.clock.monotonicS());
      if (tickTimes.length === 4) ac.abort();
      return Promise.resolve();
    },
  });
  assertEquals(tickTimes, [100.5, 101, 103, 105]);
});

/**
 * Runs the driver over `f` at a 0.1 s interval, each counter read taking `readS(n)` of virtual
 * time (the n-th read, from 1; `onRead` sees its start), until the `reads`-th read.
 */
async function driveWithSlowReads(
  f: ReturnType<typeof fixture>,
  options: { reads: number; readS: (n: number) => number; onRead?: (startS: number) => void },
): Promise<void> {
  const ac = new AbortController();
  const read = f.counters.read.bind(f.counters);
  let n = 0;
  f.counters.read = () => {
    n++;
    options.onRead?.(f.clock.monotonicS());
    if (n === options.reads) ac.abort();
    f.clock.advance(options.readS(n));
    setDeltas(f.owd, f.clock.monotonicS(), [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]);
    return read();
  };
  await runControlLoop(f.loop, {
    signal: ac.signal,
    clock: f.clock,
    intervalS: 0.1,
    sleep: (ms) => {
      f.clock.advance(ms / 1000);
      return Promise.resolve();
    },
  });
}

Deno.test("driver: a tick longer than the interval is followed at once, not a whole interval later", async () => {
  const { c } = fixedController(50000, 10000);
  const f = fixture({}, { controller: c });
  await f.loop.start();
  // Each counter read takes 150 ms (a remote read and rate changes over a slow link).
  const starts: number[] = [];
  await driveWithSlowReads(f, {
    reads: 5,
    readS: () => 0.15,
    onRead: (t) => starts.push(Math.round(t * 1000) / 1000),
  });
  // Main before v87 waited a whole interval after each: 100.1, 100.35, 100.6, …
  assertEquals(starts, [100.1, 100.25, 100.4, 100.55, 100.7]);
});

Deno.test("driver: ticks longer than their period are logged once at WARN, the all-clear once at INFO", async () => {
  const { c } = fixedController(50000, 10000);
  const f = fixture({}, { controller: c });
  const lines: { level: string; text: string }[] = [];
  configureLogging("DEBUG", {
    sink: (r) => lines.push({ level: r.level, text: r.message.join("") }),
  });
  try {
    await f.loop.start();
    // 30 reads of 150 ms, 150 of 20 ms, then 30 of 150 ms again.
    await driveWithSlowReads(f, { reads: 210, readS: (n) => n <= 30 || n > 180 ? 0.15 : 0.02 });
    const said = lines.filter((l) => /period of 100 ms/.test(l.text));
    assertEquals(said.map((l) => l.level), ["warning", "info", "warning"]);
    assert(said[0].text.startsWith("decisions take 150 ms"), said[0].text);
  } finally {
    resetLogging();
  }
});

Deno.test("loop: ticks at the controller's own interval, else at min_change_interval", () => {
  assertEquals(fixture({ min_change_interval: 0.7 }).loop.intervalS, 0.7);
  const { c } = fixedController(1000, 1000);
  const paced: Ratecontroller = { ...c, decide: c.decide, intervalS: 0.1 };
  assertEquals(fixture({}, { controller: paced }).loop.intervalS, 0.1);
});

Deno.test("loop: peers late behind a queue on our link are not replaced; a dead one is", async () => {
  const f = fixture();
  await f.loop.start();
  f.clock.advance(0.5);
  setDeltas(f.owd, f.clock.monotonicS(), [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]);
  f.counters.add(1000, 1000);
  await f.loop.tick();
  // 1.5 s later only p1 and p2 answered, 600 ms late each way: the others' replies are queued.
  f.clock.advance(1.5);
  setDeltas(f.owd, f.clock.monotonicS(), [600, 600], [600, 600], ["p1", "p2"]);
  f.counters.add(1000, 1000);
  await f.loop.tick();
  assertEquals(f.reselects.length, 0);
  // Replies without a queue while p3–p5 stay silent: they are gone, reselect.
  f.clock.advance(0.5);
  setDeltas(f.owd, f.clock.monotonicS(), [1, 1], [1, 1], ["p1", "p2"]);
  f.counters.add(1000, 1000);
  await f.loop.tick();
  assertEquals(f.reselects.length, 1);
});
