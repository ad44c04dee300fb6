/**
 * Lua support benchmark: cost of one Lua ratecontroller tick (builtin:ewma) and of one plugin call
 * reading every field, as the daemon makes them (Lua in a worker, one message round trip per
 * call) and in process, and Lua heap growth over 100 000 ticks of controller + plugin.
 *
 * Run: deno run -P=dev bench/lua.ts
 */
import { settingsWithDefaults } from "../src/config/defaults.ts";
import { createOwdState } from "../src/baseline/owd_state.ts";
import { seededRandom, VirtualClock } from "../src/util/clock.ts";
import type { TickInput } from "../src/control/ratecontroller_port.ts";
import {
  createIsolatedPlugins,
  createIsolatedRatecontroller,
  createLuaRatecontroller,
  createPluginManager,
} from "../src/lua/mod.ts";
import { stageLogger } from "../src/log/mod.ts";
import { median } from "../src/util/stats.ts";

const settings = settingsWithDefaults({
  ul_if: "wan",
  dl_if: "ifb4wan",
  base_ul_rate: 20000,
  base_dl_rate: 100000,
  plugin_scripts: [new URL("../src/lua/testdata/read_all.lua", import.meta.url).pathname],
});
// Logging unconfigured, as the daemon with debug output off: log calls cost what they cost.
const logger = stageLogger("lua");
/** The controller's context as the daemon gives it, fresh for each engine (its own random draws). */
const controllerContext = () => ({
  settings,
  clock: new VirtualClock(0),
  random: seededRandom(1),
  logger,
  owd: createOwdState(),
  reselect: { requestReselect: () => {} },
});
const controller = await createLuaRatecontroller(controllerContext());
const plugins = await createPluginManager({ settings, logger, random: seededRandom(2) });
if (!plugins) throw new Error("bench plugin did not load");

const rnd = seededRandom(3);
function input(i: number): TickInput {
  const cur = { dl: 60000, ul: 12000 };
  const dl_deltas = Array.from({ length: 5 }, () => rnd() * 30).sort((a, b) => a - b);
  const ul_deltas = Array.from({ length: 5 }, () => rnd() * 30).sort((a, b) => a - b);
  const rx_load = rnd() * 1.1;
  const tx_load = rnd() * 1.1;
  return {
    readings: {
      now_s: i * 0.5,
      dt: 0.5,
      rx_load,
      tx_load,
      down_del_stat: dl_deltas[2],
      up_del_stat: ul_deltas[2],
      down_utilisation: rx_load * cur.dl,
      up_utilisation: tx_load * cur.ul,
      cur_dl_rate: cur.dl,
      cur_ul_rate: cur.ul,
      dl_bytes: Math.round(rx_load * cur.dl * 0.5 / 0.008),
      ul_bytes: Math.round(tx_load * cur.ul * 0.5 / 0.008),
      dl_deltas,
      ul_deltas,
    },
    dl_max_delta_owd: 15,
    ul_max_delta_owd: 15,
  };
}
const inputs = Array.from({ length: 1000 }, (_, i) => input(i));

/** Median over batches of per-call microseconds (timer resolution is coarser than a call). */
function medianUs(fn: (i: number) => void, batches = 200, perBatch = 50): number {
  for (let i = 0; i < 2000; i++) fn(i); // warm-up (JIT)
  const samples: number[] = [];
  let k = 0;
  for (let b = 0; b < batches; b++) {
    const t0 = performance.now();
    for (let j = 0; j < perBatch; j++) fn(k++);
    samples.push((performance.now() - t0) * 1000 / perBatch);
  }
  return median(samples);
}

/** The same for calls that return a promise (one worker round trip each). */
async function medianUsAsync(
  fn: (i: number) => unknown,
  batches = 100,
  perBatch = 20,
): Promise<number> {
  for (let i = 0; i < 500; i++) await fn(i);
  const samples: number[] = [];
  let k = 0;
  for (let b = 0; b < batches; b++) {
    const t0 = performance.now();
    for (let j = 0; j < perBatch; j++) await fn(k++);
    samples.push((performance.now() - t0) * 1000 / perBatch);
  }
  return median(samples);
}

// As the daemon runs them: in workers.
const isoController = await createIsolatedRatecontroller(controllerContext());
const isoPlugins = await createIsolatedPlugins({
  settings,
  logger,
  clock: new VirtualClock(0),
  random: seededRandom(2),
});
if (!isoPlugins) throw new Error("bench plugin did not load in a worker");
const isoTickUs = await medianUsAsync((i) => isoController.decide(inputs[i % inputs.length]));
const isoPluginUs = await medianUsAsync((i) =>
  isoPlugins.adjust({ ...inputs[i % inputs.length], next_dl_rate: 61000, next_ul_rate: 12100 })
);
isoController.close();
isoPlugins.close();

const tickUs = medianUs((i) => controller.decide(inputs[i % inputs.length]));
const pluginUs = medianUs((i) => {
  const inp = inputs[i % inputs.length];
  plugins.adjust({ ...inp, next_dl_rate: 61000, next_ul_rate: 12100 });
});

// Heap growth: both engines, after a warm-up and a full GC, across 100 000 more ticks.
for (let i = 0; i < 5000; i++) {
  const inp = inputs[i % inputs.length];
  const d = controller.decide(inp) as { next_dl_rate: number; next_ul_rate: number };
  plugins.adjust({ ...inp, ...d });
}
const before = controller.heapBytes() + plugins.heapBytes();
const t0 = performance.now();
for (let i = 0; i < 100_000; i++) {
  const inp = inputs[i % inputs.length];
  const d = controller.decide(inp) as { next_dl_rate: number; next_ul_rate: number };
  plugins.adjust({ ...inp, ...d });
}
const loopS = (performance.now() - t0) / 1000;
const after = controller.heapBytes() + plugins.heapBytes();
controller.close();
plugins.close();

console.log(`100 000 controller+plugin ticks took ${loopS.toFixed(1)} s`);
console.log(
  `Lua heap after warm-up ${(before / 1024).toFixed(1)} KB, after ${(after / 1024).toFixed(1)} KB`,
);
console.log(`metric lua_controller_tick_median ${isoTickUs.toFixed(1)} us`);
console.log(`metric plugin_process_median ${isoPluginUs.toFixed(1)} us`);
console.log(`metric lua_controller_tick_inprocess_median ${tickUs.toFixed(1)} us`);
console.log(`metric plugin_process_inprocess_median ${pluginUs.toFixed(1)} us`);
console.log(`metric lua_heap_growth_100k_ticks ${((after - before) / 1024).toFixed(1)} KB`);
