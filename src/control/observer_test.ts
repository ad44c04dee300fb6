import { assert, assertEquals } from "../util/assert.ts";
import { settingsWithDefaults } from "../config/defaults.ts";
import { createOwdState } from "../baseline/owd_state.ts";
import type { CounterReading, TickEvent } from "./ports.ts";
import { VirtualClock } from "../util/clock.ts";
import { MemoryShaper } from "../apply/memory.ts";
import type { Ratecontroller } from "./ratecontroller_port.ts";
import { ControlLoop } from "./loop.ts";

const PEERS = ["p1", "p2", "p3", "p4", "p5"];

Deno.test("observers see each tick: path, rates, readings and the faults of that tick", async () => {
  const settings = settingsWithDefaults({ base_dl_rate: 100000, base_ul_rate: 20000 });
  const clock = new VirtualClock(100, { wallOriginMs: 1_700_000_000_000 });
  const owd = createOwdState(PEERS);
  let counters: CounterReading | null = { dlBytes: 0, ulBytes: 0 };
  const dl = new MemoryShaper("ifb4wan");
  const ul = new MemoryShaper("wan");
  let proposal = { next_dl_rate: 70000, next_ul_rate: 15000 };
  let throwNext = false;
  const controller: Ratecontroller = {
    name: "fixed",
    decide() {
      if (throwNext) throw new Error("boom");
      return proposal;
    },
  };
  const events: TickEvent[] = [];
  const loop = new ControlLoop({
    settings,
    clock,
    owd,
    reselect: { requestReselect: () => {} },
    controller,
    adjusters: [{ name: "bad", adjust: () => Promise.reject(new Error("plugin")) }],
    counters: { read: () => Promise.resolve(counters && { ...counters }) },
    shaper: { dl, ul },
    observers: [
      { onTick: (e) => void events.push(e) },
      {
        onTick: () => {
          throw new Error("a broken observer must not stop the loop");
        },
      },
    ],
  });
  const fresh = () => {
    for (const ip of PEERS) {
      const t = clock.monotonicS();
      owd.baseline.set(ip, { up_ewma: 10, down_ewma: 10, last_receive_time_s: t });
      owd.recent.set(ip, { up_ewma: 12, down_ewma: 14, last_receive_time_s: t });
    }
  };
  await loop.start();

  clock.advance(0.5);
  fresh();
  counters = { dlBytes: 3_750_000, ulBytes: 750_000 }; // 60000 and 12000 kbit/s over 0.5 s
  await loop.tick();
  assertEquals(events.length, 1);
  const e = events[0];
  assertEquals(e.path, "normal");
  assertEquals([e.dlRate, e.ulRate], [70000, 15000]);
  assertEquals(e.readings?.dlThroughput, 60000);
  assertEquals(e.readings?.rxLoad, 1); // 60000 / the 60000 in force before the tick
  assertEquals(e.readings?.dlDelayMs, 4);
  assertEquals(e.adjusterFailures, 1);
  assertEquals([e.controllerFailure, e.counterFailure], [false, false]);
  assertEquals(e.shaperFailures, { dl: false, ul: false });
  assertEquals(e.wallMs, 1_700_000_000_000 + 100_500); // wall origin + monotonic 100.5 s

  // tc fails on the download side, the controller throws: both show in this tick's event only.
  clock.advance(0.5);
  fresh();
  dl.failing = true;
  throwNext = true;
  proposal = { next_dl_rate: 80000, next_ul_rate: 15000 };
  counters = { dlBytes: 3_800_000, ulBytes: 760_000 };
  await loop.tick();
  assertEquals(events[1].controllerFailure, true);
  // the controller held, so nothing was to be changed: no shaper failure either
  assertEquals(events[1].shaperFailures, { dl: false, ul: false });
  throwNext = false;
  clock.advance(0.5);
  fresh();
  await loop.tick();
  assertEquals(events[2].shaperFailures, { dl: true, ul: false });
  assertEquals(events[2].dlRate, 70000, "the failed change leaves the old rate in force");
  assertEquals(events[2].controllerFailure, false);

  // Counters unreadable: a hold tick with a counter failure.
  clock.advance(0.5);
  counters = null;
  await loop.tick();
  assertEquals(events[3].path, "hold");
  assert(events[3].counterFailure && events[3].readings === undefined);
});
