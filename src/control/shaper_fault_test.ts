import type { LogRecord } from "../log/logger.ts";
import { assertEquals } from "../util/assert.ts";
import { settingsWithDefaults } from "../config/defaults.ts";
import { createOwdState } from "../baseline/owd_state.ts";
import { VirtualClock } from "../util/clock.ts";
import { MemoryShaper } from "../apply/memory.ts";
import { configureLogging, formatRecord, resetLogging } from "../log/mod.ts";
import { ControlLoop } from "./loop.ts";

const PEERS = ["p1", "p2", "p3", "p4", "p5"];

Deno.test("loop: a shaper failing every tick is logged once, holds the rate, and resumes", async () => {
  const records: LogRecord[] = [];
  configureLogging("DEBUG", { sink: (r) => void records.push(r) });
  try {
    const settings = settingsWithDefaults({ base_dl_rate: 20000, base_ul_rate: 5000 });
    const clock = new VirtualClock(100);
    const owd = createOwdState(PEERS);
    const dl = new MemoryShaper("ifb4wan");
    const ul = new MemoryShaper("wan");
    let proposal = 15000;
    const loop = new ControlLoop({
      settings,
      clock,
      owd,
      reselect: { requestReselect: () => {} },
      controller: { name: "fixed", decide: () => ({ next_dl_rate: proposal, next_ul_rate: 3000 }) },
      counters: { read: () => Promise.resolve({ dlBytes: 0, ulBytes: 0 }) },
      shaper: { dl, ul },
    });
    await loop.start();
    const tick = async () => {
      clock.advance(0.5);
      for (const ip of PEERS) {
        const e = { up_ewma: 10, down_ewma: 10, last_receive_time_s: clock.monotonicS() };
        owd.baseline.set(ip, e);
        owd.recent.set(ip, { ...e });
      }
      proposal += 100;
      await loop.tick();
    };
    dl.failing = true; // e.g. the root qdisc replaced by an administrator
    for (let i = 0; i < 20; i++) await tick();
    dl.failing = false;
    await tick();
    const lines = (level: string) =>
      records.filter((r) => r.level === level && r.category.includes("control")).map(formatRecord);
    assertEquals(lines("error").length, 1, lines("error").join(""));
    assertEquals(lines("warning").filter((l) => l.includes("work again")).length, 1);
    assertEquals(dl.calls, 1 + 20 + 1);
    // Held at the start rate while failing, then the current proposal.
    assertEquals(dl.history, [12000, 17100]);
  } finally {
    resetLogging();
  }
});
