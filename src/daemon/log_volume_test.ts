import type { LogRecord } from "../log/logger.ts";
import { assert, assertEquals } from "../util/assert.ts";
import { settingsWithDefaults } from "../config/defaults.ts";
import { createOwdState } from "../baseline/owd_state.ts";
import type { MeasurementService } from "../control/ports.ts";
import { VirtualClock } from "../util/clock.ts";
import { MemoryShaper } from "../apply/memory.ts";
import { configureLogging, formatRecord, resetLogging } from "../log/mod.ts";
import { ExitCode } from "../util/exit_codes.ts";
import { runDaemon } from "./mod.ts";

const PEERS = ["a", "b", "c", "d", "e"];

Deno.test("daemon: one hour under changing load with a 2-minute outage stays readable at INFO", async () => {
  const records: LogRecord[] = [];
  configureLogging("INFO", { sink: (r) => void records.push(r) });
  try {
    const settings = settingsWithDefaults({
      dl_if: "ifb4wan",
      ul_if: "wan",
      base_dl_rate: 100000,
      base_ul_rate: 20000,
    });
    const clock = new VirtualClock(0);
    const owd = createOwdState(PEERS);
    let measuring = false;
    const measurement: MeasurementService = {
      owd,
      reselect: { requestReselect: () => {} },
      start: () => Promise.resolve(void (measuring = true)),
      stop: () => Promise.resolve(void (measuring = false)),
    };
    const dl = new MemoryShaper("ifb4wan");
    const ul = new MemoryShaper("wan");
    let bytes = 0;
    const ac = new AbortController();
    const code = await runDaemon(settings, {
      measurement,
      clock,
      random: () => 0.5,
      shapers: { dl, ul },
      counters: { read: () => Promise.resolve({ dlBytes: Math.floor(bytes), ulBytes: 0 }) },
      stats: null,
      shutdown: ac.signal,
      sleep: (ms) => {
        clock.advance(ms / 1000);
        const t = clock.monotonicS();
        // Load: the link runs at 90 % of the shaper rate half of each minute, then idles.
        if (t % 60 < 30) bytes += (dl.rate * 0.9 * 125) * ms / 1000;
        // Delay rises with the rate (a bottleneck near 60 Mbit/s); nothing answers 20–22 min.
        const outage = t > 1200 && t < 1320;
        if (measuring && !outage) {
          const extra = dl.rate > 60000 ? 30 : 1;
          for (const ip of PEERS) {
            owd.baseline.set(ip, { up_ewma: 5, down_ewma: 5, last_receive_time_s: t });
            owd.recent.set(ip, { up_ewma: 5, down_ewma: 5 + extra, last_receive_time_s: t });
          }
        }
        if (t >= 3600) ac.abort();
        return Promise.resolve();
      },
    });
    assertEquals(code, ExitCode.OK);
    assert(dl.history.length > 100, `the rate changed ${dl.history.length} times`);
    const lines = records.map(formatRecord);
    const text = lines.join("");
    assert(lines.length <= 25, `${lines.length} INFO+ lines in an hour:\n${text}`);
    assertEquals(
      lines.filter((l) => /\]: last \d+ s: /.test(l)).length,
      12,
      text,
    );
    assertEquals(lines.filter((l) => l.includes("fresh reflectors")).length, 2, text);
    assert(lines.every((l) => l.split("\n").length === 2), "one line per record");
  } finally {
    resetLogging();
  }
});
