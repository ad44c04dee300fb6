/**
 * Control-core benchmarks: one EWMA tick (collectDeltas + decision, 5 reflectors), one
 * capacity-controller decision, and one
 * counter reading of both interfaces through `ip` (long-lived batch coprocess, compared with
 * spawning `ip` per reading). Run: deno run -P=dev bench/core.ts
 */
import { settingsWithDefaults } from "../src/config/defaults.ts";
import { createOwdState } from "../src/baseline/owd_state.ts";
import { seededRandom, VirtualClock } from "../src/util/clock.ts";
import { CapacityController, EwmaController } from "../src/ratecontroller/mod.ts";
import { collectDeltas, delayStatistic } from "../src/control/deltas.ts";
import type { TickReadings } from "../src/control/ratecontroller_port.ts";
import { createCounterReader } from "../src/counters/mod.ts";
import { median } from "../src/util/stats.ts";
import { benchLoopTick } from "./_loop_tick.ts";

function benchEwmaTick(): number {
  const settings = settingsWithDefaults({ base_dl_rate: 100000, base_ul_rate: 20000 });
  const random = seededRandom(42);
  const controller = new EwmaController(settings, random);
  const peers = ["9.9.9.9", "8.238.120.14", "74.82.42.42", "194.242.2.2", "208.67.222.222"];
  const owd = createOwdState(peers);
  let cur = { dl: 60000, ul: 12000 };
  const batch = 1000;
  const perOp: number[] = [];
  let now = 1000;
  for (let b = 0; b < 300; b++) {
    // Fresh data each batch; loads and delays vary so every rule runs.
    for (const ip of peers) {
      const base = 20 + random() * 10;
      owd.baseline.set(ip, { up_ewma: base, down_ewma: base, last_receive_time_s: now });
      owd.recent.set(ip, {
        up_ewma: base + random() * 30,
        down_ewma: base + random() * 30,
        last_receive_time_s: now,
      });
    }
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) {
      const d = collectDeltas(owd, now, { tickInterval: 0.5 });
      const load = 0.5 + (i % 10) * 0.05;
      const readings: TickReadings = {
        now_s: now,
        dt: 0.5,
        rx_load: load,
        tx_load: load,
        down_del_stat: delayStatistic(d.dl)!,
        up_del_stat: delayStatistic(d.ul)!,
        down_utilisation: load * cur.dl,
        up_utilisation: load * cur.ul,
        cur_dl_rate: cur.dl,
        cur_ul_rate: cur.ul,
        dl_bytes: 0,
        ul_bytes: 0,
        dl_deltas: d.dl,
        ul_deltas: d.ul,
      };
      const r = controller.decide({ readings, dl_max_delta_owd: 15, ul_max_delta_owd: 15 });
      cur = {
        dl: Math.max(20000, Math.floor(r.next_dl_rate)),
        ul: Math.max(4000, Math.floor(r.next_ul_rate)),
      };
    }
    perOp.push((performance.now() - t0) * 1000 / batch);
    now += 0.01;
  }
  return median(perOp.slice(50)); // skip JIT warm-up
}

/** One capacity-controller decision (5 reflectors, raw samples arriving, loads varying). */
function benchCapacityDecide(): number {
  const settings = settingsWithDefaults({ base_dl_rate: 100000, base_ul_rate: 20000 });
  const random = seededRandom(7);
  const peers = ["9.9.9.9", "8.238.120.14", "74.82.42.42", "194.242.2.2", "208.67.222.222"];
  const owd = createOwdState(peers);
  const clock = new VirtualClock(1000);
  const controller = new CapacityController(settings, { owd, clock });
  for (const ip of peers) {
    owd.baseline.set(ip, { up_ewma: 20, down_ewma: 20, last_receive_time_s: 1000 });
    owd.latest!.set(ip, { up_ewma: 20, down_ewma: 20, last_receive_time_s: 1000 });
  }
  let cur = { dl: 60000, ul: 12000 };
  const batch = 1000;
  const perOp: number[] = [];
  for (let b = 0; b < 300; b++) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) {
      clock.advance(0.1);
      const now = clock.monotonicS();
      // One new sample per decision, as with 5 reflectors at 0.5 s; a queue now and then.
      const e = owd.latest!.get(peers[i % peers.length])!;
      const queue = (i % 50) < 10 ? random() * 30 : random() * 2;
      e.up_ewma = 20 + queue;
      e.down_ewma = 20 + queue * random();
      e.last_receive_time_s = now;
      const load = 0.5 + (i % 10) * 0.05;
      const readings: TickReadings = {
        now_s: now,
        dt: 0.1,
        rx_load: load,
        tx_load: load,
        down_del_stat: 0,
        up_del_stat: 0,
        down_utilisation: load * cur.dl,
        up_utilisation: load * cur.ul,
        cur_dl_rate: cur.dl,
        cur_ul_rate: cur.ul,
        dl_bytes: 0,
        ul_bytes: 0,
        dl_deltas: [],
        ul_deltas: [],
      };
      const r = controller.decide({ readings, dl_max_delta_owd: 15, ul_max_delta_owd: 15 });
      cur = {
        dl: Math.max(20000, Math.floor(r.next_dl_rate)),
        ul: Math.max(4000, Math.floor(r.next_ul_rate)),
      };
    }
    perOp.push((performance.now() - t0) * 1000 / batch);
  }
  return median(perOp.slice(50)); // skip JIT warm-up
}

async function benchCounters(mode: "batch" | "spawn", samples: number): Promise<number> {
  const reader = createCounterReader(
    { dl_if: "lo", ul_if: "lo", dl_counter: "auto", ul_counter: "auto" },
    { mode },
  );
  try {
    const times: number[] = [];
    for (let i = 0; i < samples + 20; i++) {
      const t0 = performance.now();
      const r = await reader.read();
      const dt = performance.now() - t0;
      if (r === null) throw new Error(`counter read failed (${mode})`);
      if (i >= 20) times.push(dt);
    }
    return median(times);
  } finally {
    await reader.close();
  }
}

const ewma = benchEwmaTick();
const loopTick = await benchLoopTick();
const capacity = benchCapacityDecide();
const batch = await benchCounters("batch", 1000);
const spawn = await benchCounters("spawn", 100);
console.log(`EWMA tick (collectDeltas + decide, 5 reflectors): median ${ewma.toFixed(3)} us`);
console.log(`counters via ip -batch coprocess: median ${batch.toFixed(3)} ms`);
console.log(`counters via spawned ip (2 processes): median ${spawn.toFixed(3)} ms`);
console.log(`full control tick (loop.tick, stats row, INFO log): median ${loopTick.toFixed(2)} us`);
console.log(`capacity decide (5 reflectors, one new sample): median ${capacity.toFixed(3)} us`);
console.log(`metric ewma_tick_median ${ewma.toFixed(3)} us`);
console.log(`metric control_tick_median ${loopTick.toFixed(2)} us`);
console.log(`metric capacity_decide_median ${capacity.toFixed(3)} us`);
console.log(`metric counters_read_median ${batch.toFixed(3)} ms`);
console.log(`metric counters_spawn_read_median ${spawn.toFixed(3)} ms`);
