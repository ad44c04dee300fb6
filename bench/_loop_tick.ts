/**
 * One full control tick as the daemon runs it (collectDeltas, counters, EWMA decision, clamp,
 * shaper change, statistics row into an in-memory file store, INFO logging to a discarding sink),
 * in virtual time. Used by bench/core.ts (`control_tick_median`).
 */
import { settingsWithDefaults } from "../src/config/defaults.ts";
import { createOwdState } from "../src/baseline/owd_state.ts";
import { seededRandom, VirtualClock } from "../src/util/clock.ts";
import { EwmaController } from "../src/ratecontroller/mod.ts";
import { ControlLoop } from "../src/control/loop.ts";
import { MemoryShaper } from "../src/apply/memory.ts";
import { FileStatsSink } from "../src/report/stats.ts";
import { MemoryFileStore } from "../src/report/store.ts";
import { configureLogging, resetLogging } from "../src/log/mod.ts";
import { median } from "../src/util/stats.ts";

/** Median µs per tick over batches of `batch` ticks. */
export async function benchLoopTick(batches = 100, batch = 200): Promise<number> {
  configureLogging("INFO", { sink: () => {} });
  try {
    const settings = settingsWithDefaults({
      base_dl_rate: 100000,
      base_ul_rate: 20000,
      dl_if: "ifb4wan",
      ul_if: "wan",
    });
    const random = seededRandom(7);
    const clock = new VirtualClock(100);
    const peers = ["9.9.9.9", "8.238.120.14", "74.82.42.42", "194.242.2.2", "208.67.222.222"];
    const owd = createOwdState(peers);
    let bytes = 0;
    const store = new MemoryFileStore();
    const loop = new ControlLoop({
      settings,
      clock,
      owd,
      reselect: { requestReselect: () => {} },
      controller: new EwmaController(settings, random),
      counters: {
        read: () => Promise.resolve({ dlBytes: bytes, ulBytes: bytes, dlIfindex: 1, ulIfindex: 2 }),
      },
      shaper: { dl: new MemoryShaper("ifb4wan"), ul: new MemoryShaper("wan") },
      stats: new FileStatsSink(settings, { store }),
    });
    await loop.start();
    const perTick: number[] = [];
    for (let b = 0; b < batches; b++) {
      const t0 = performance.now();
      for (let i = 0; i < batch; i++) {
        clock.advance(0.5);
        const now = clock.monotonicS();
        for (const ip of peers) {
          const base = 20;
          owd.baseline.set(ip, { up_ewma: base, down_ewma: base, last_receive_time_s: now });
          owd.recent.set(ip, {
            up_ewma: base + random() * 20,
            down_ewma: base + random() * 20,
            last_receive_time_s: now,
          });
        }
        bytes += 3_000_000 + Math.floor(random() * 1_000_000);
        await loop.tick();
      }
      perTick.push((performance.now() - t0) * 1000 / batch);
      // Keep memory flat: keep only the header lines (an emptied file is started again, logged).
      for (const [path, text] of store.files) {
        store.files.set(path, text.slice(0, text.indexOf("\n") + 1));
      }
    }
    return median(perTick.slice(10));
  } finally {
    resetLogging();
  }
}
