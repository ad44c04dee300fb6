import { assert, assertEquals } from "../util/assert.ts";
import { PeriodicSummary } from "./summary.ts";
import type { TickResult } from "./loop.ts";

function tick(dl: number, ul: number, delay?: number): TickResult {
  return {
    path: delay === undefined ? "no-deltas" : "normal",
    next_dl_rate: dl,
    next_ul_rate: ul,
    applied: { dl: true, ul: true },
    readings: delay === undefined ? undefined : {
      now_s: 0,
      dt: 0.5,
      rx_load: dl / 100000,
      tx_load: ul / 20000,
      down_del_stat: delay,
      up_del_stat: delay / 2,
      down_utilisation: 0,
      up_utilisation: 0,
      cur_dl_rate: dl,
      cur_ul_rate: ul,
      dl_bytes: 0,
      ul_bytes: 0,
      dl_deltas: [],
      ul_deltas: [],
    },
  };
}

Deno.test("summary: one line per period with rate, delay and load ranges", () => {
  const lines: string[] = [];
  const s = new PeriodicSummary((l) => lines.push(l), { periodS: 10 });
  s.record(0, tick(50000, 10000, 2));
  s.record(4, tick(80000, 12000, 30));
  s.record(8, tick(60000, 11000, 4));
  assertEquals(lines, []);
  s.record(10, tick(60000, 11000));
  assertEquals(lines, [
    "last 10 s: 4 ticks (3 normal, 1 no-deltas); download 50000–80000 kbit/s (now 60000); " +
    "upload 10000–12000 kbit/s (now 11000); delay down median 4.0 / max 30.0 ms, up median " +
    "2.0 / max 15.0 ms; load rx 0.50–0.80, tx 0.50–0.60",
  ]);
  s.record(12, tick(61000, 11000));
  s.flush(13);
  assertEquals(
    lines[1],
    "last 3 s: 1 ticks (1 no-deltas); download 61000 kbit/s (now 61000); " +
      "upload 11000 kbit/s (now 11000)",
  );
  s.flush(14);
  assertEquals(lines.length, 2, "nothing recorded, nothing logged");
});

Deno.test("summary: a range that prints as one value is shown once (docs/operation.md's example)", () => {
  const lines: string[] = [];
  const s = new PeriodicSummary((l) => lines.push(l), { periodS: 10 });
  // Idle loads of 0.1 % and 0.3 %: both print as 0.00.
  s.record(0, tick(100, 60, 1));
  s.record(5, tick(300, 60, 1));
  s.flush(10);
  assert(lines[0].endsWith("load rx 0.00, tx 0.00"), lines[0]);
});

Deno.test("summary: the process's memory ends the line when a source is given", () => {
  const lines: string[] = [];
  let reads = 0;
  const memory = () => {
    reads++;
    return { rss: 31_234_567, heapUsed: 14_049_999, heapTotal: 16e6, external: 1e6 };
  };
  const s = new PeriodicSummary((l) => lines.push(l), { periodS: 10, memory });
  for (let t = 0; t <= 10; t += 2) s.record(t, tick(60000, 11000));
  assertEquals(reads, 1, "read once per line, not per tick");
  assertEquals(
    lines[0],
    "last 10 s: 6 ticks (6 no-deltas); download 60000 kbit/s (now 60000); " +
      "upload 11000 kbit/s (now 11000); memory rss 31.2 MB, JS heap 14.0 MB",
  );
});

Deno.test("summary: a load that is not a number is left out of its range, as before", () => {
  const lines: string[] = [];
  const s = new PeriodicSummary((l) => lines.push(l), { periodS: 10 });
  const odd = tick(0, 10000, 3);
  s.record(0, tick(50000, 10000, 2));
  // A rate of 0 in force makes the load NaN (0/0) in the loop's readings.
  s.record(2, { ...odd, readings: { ...odd.readings!, rx_load: NaN } });
  s.record(4, tick(70000, 14000, 4));
  s.flush(10);
  assert(lines[0].includes("download 0–70000 kbit/s (now 70000)"), lines[0]);
  assert(lines[0].endsWith("load rx 0.50–0.70, tx 0.50–0.70"), lines[0]);
});
