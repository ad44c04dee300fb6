import { assert, assertEquals } from "../util/assert.ts";
import { settingsWithDefaults } from "../config/defaults.ts";
import type { TableSettings } from "../config/settings_table.ts";
import { createOwdState } from "../baseline/owd_state.ts";
import { Baseliner } from "../baseline/baseliner.ts";
import { VirtualClock } from "../util/clock.ts";
import { MemoryShaper } from "../apply/memory.ts";
import { EwmaController } from "../ratecontroller/ewma.ts";
import { configureLogging, resetLogging } from "../log/mod.ts";
import { IdleDetector } from "./idle.ts";
import { ControlLoop, type TickResult } from "./loop.ts";
import { type CounterReading, SHAPER_REFRESH_S } from "./ports.ts";
import { runControlLoop } from "./driver.ts";
import type { Ratecontroller } from "./ratecontroller_port.ts";

const reading = (dl: number, ul: number): CounterReading => ({
  dlBytes: dl,
  ulBytes: ul,
  dlIfindex: 1,
  ulIfindex: 2,
});

Deno.test("IdleDetector: idle after the delay of quiet both ways; busy or a reset restarts it", () => {
  const d = new IdleDetector({ thresholdKbit: 200, delayS: 10 });
  // 100 kbit/s down, 50 up over 1 s: quiet.
  let prev = reading(0, 0);
  let t = 0;
  const step = (
    dlBytes: number,
    ulBytes: number,
    cur = reading(
      prev.dlBytes + dlBytes,
      prev.ulBytes + ulBytes,
    ),
  ) => {
    const v = d.observe(prev, cur, { prevS: t, nowS: t + 1 });
    prev = cur;
    t += 1;
    return v;
  };
  const verdicts = Array.from({ length: 10 }, () => step(12_500, 6_250));
  assertEquals(verdicts.slice(0, 9).every((v) => v === "quiet"), true);
  assertEquals(verdicts[9], "idle", "10 s of quiet");
  assertEquals(step(25_000, 0), "busy", "200 kbit/s down is not below the threshold");
  assertEquals(step(0, 0), "quiet", "quiet again starts a new stretch");
  assertEquals(step(0, 0, { ...reading(0, 0), dlIfindex: 7 }), "busy", "a new interface");
});

/** `c` deciding at its own period `intervalS` (like the capacity controller), if given. */
function paced(c: Ratecontroller, intervalS: number | undefined): Ratecontroller {
  if (intervalS === undefined) return c;
  return { name: c.name, intervalS, decide: (input) => c.decide(input) };
}

/** A loop with idle mode, fake counters, a pinger port that records pause/resume. */
function idleFixture(overrides: Partial<TableSettings> = {}, options: { intervalS?: number } = {}) {
  const settings = settingsWithDefaults({
    base_dl_rate: 100000,
    base_ul_rate: 20000,
    idle_delay: 10,
    idle_threshold: 200,
    ...overrides,
  });
  const clock = new VirtualClock(100);
  const peers = ["p1", "p2", "p3", "p4", "p5"];
  const owd = createOwdState(peers);
  const baseliner = new Baseliner(owd, { tickS: settings.tick_interval });
  let counters = reading(0, 0);
  let reads = 0;
  /** Whether each reading was asked for as an idle one. */
  const idleReads: boolean[] = [];
  const events: string[] = [];
  const reselects: string[] = [];
  const observed: string[] = [];
  let pinging = true;
  let pausedAt = 0;
  const dl = new MemoryShaper("ifb4wan");
  const ul = new MemoryShaper("wan");
  const loop = new ControlLoop({
    settings,
    clock,
    owd,
    reselect: { requestReselect: (r) => reselects.push(r) },
    controller: paced(new EwmaController(settings, () => 0.5), options.intervalS),
    counters: {
      read: (o) => {
        reads++;
        idleReads.push(o?.idle === true);
        return Promise.resolve({ ...counters });
      },
    },
    shaper: { dl, ul },
    observers: [{ onTick: (e) => observed.push(e.path) }],
    pinging: {
      pause: () => {
        events.push(`pause@${clock.monotonicS()}`);
        pinging = false;
        pausedAt = clock.monotonicS();
        return Promise.resolve();
      },
      resume: () => {
        events.push(`resume@${clock.monotonicS()}`);
        pinging = true;
        // As createMeasurement's resume() does.
        baseliner.bridgeGap(pausedAt, clock.monotonicS());
        return Promise.resolve();
      },
    },
  });
  /** Time passes under `load`: replies (delay `rttMs`) arrive only while pinging. */
  const advance = (seconds: number, load: { dlKbit: number; ulKbit: number }, rttMs = 20) => {
    clock.advance(seconds);
    const now = clock.monotonicS();
    if (pinging) {
      for (const ip of peers) {
        baseliner.ingest({ reflector: ip, upMs: rttMs / 2, downMs: rttMs / 2, receiveTimeS: now });
      }
    }
    counters = reading(
      counters.dlBytes + load.dlKbit * 1000 / 8 * seconds,
      counters.ulBytes + load.ulKbit * 1000 / 8 * seconds,
    );
  };
  /** One tick 0.5 s later. */
  const tick = async (load: { dlKbit: number; ulKbit: number }, rttMs = 20) => {
    advance(0.5, load, rttMs);
    return await loop.tick();
  };
  return {
    settings,
    clock,
    loop,
    advance,
    tick,
    idleReads,
    events,
    reselects,
    observed,
    dl,
    ul,
    owd,
    get reads() {
      return reads;
    },
  };
}

Deno.test("idle mode: enters after the delay, holds base, keeps reading counters, resumes within one tick", async () => {
  const lines: string[] = [];
  configureLogging("INFO", { sink: (r) => lines.push(r.message.join("")) });
  try {
    const f = idleFixture();
    await f.loop.start();
    const quiet = { dlKbit: 50, ulKbit: 10 };
    const paths: TickResult["path"][] = [];
    for (let i = 0; i < 19; i++) paths.push((await f.tick(quiet)).path);
    assertEquals(paths.filter((p) => p === "idle").length, 0, "9.5 s of quiet is not yet idle");
    const entering = await f.tick(quiet);
    assertEquals(entering.path, "idle");
    assertEquals(f.events, ["pause@110"]);
    assertEquals([f.dl.history.at(-1), f.ul.history.at(-1)], [100000, 20000], "held at base");
    assert(lines.some((l) => l.startsWith("entering idle mode")), lines.join("\n"));

    // A long idle stretch: counters still read every tick, no reselection, no rate change; the
    // rates in place are only set again as they are every SHAPER_REFRESH_S (a qdisc changed by
    // someone else is put right).
    const readsBefore = f.reads;
    const changes = f.dl.calls + f.ul.calls;
    for (let i = 0; i < 240; i++) assertEquals((await f.tick(quiet)).path, "idle");
    assertEquals(f.reads - readsBefore, 240);
    assertEquals(f.reselects, []);
    assertEquals(f.dl.calls + f.ul.calls - changes, 2 * Math.floor(120 / SHAPER_REFRESH_S));
    assertEquals(new Set(f.dl.history.slice(-12)), new Set([100000]));
    assertEquals(new Set(f.ul.history.slice(-12)), new Set([20000]));
    assertEquals(f.loop.state.idle, true);
    assertEquals(f.observed.filter((p) => p === "idle").length, 241, "observers see idle ticks");

    // Load returns: pinging resumes in that very tick, the rates are held until replies are in.
    const busy = { dlKbit: 80000, ulKbit: 15000 };
    const back = await f.tick(busy);
    assertEquals(back.path, "hold");
    assertEquals(f.events.length, 2);
    assert(f.events[1] === "resume@230.5", f.events.join(" "));
    assert(lines.some((l) => l.startsWith("leaving idle mode")), lines.join("\n"));
    const after = await f.tick(busy);
    assertEquals(after.path, "normal", "fresh replies one tick later: control as usual");
    assertEquals(f.reselects, [], "the pause itself asks for no reselection");
  } finally {
    resetLogging();
  }
});

Deno.test("idle mode: a failing change is said to be retried at the refresh, not every tick", async () => {
  const lines: string[] = [];
  configureLogging("DEBUG", { sink: (r) => r.level === "error" && lines.push(r.message.join("")) });
  try {
    const f = idleFixture();
    await f.loop.start();
    const quiet = { dlKbit: 50, ulKbit: 10 };
    for (let i = 0; i < 20; i++) await f.tick(quiet);
    assertEquals(f.loop.state.idle, true);
    f.dl.failing = true;
    const calls = f.dl.calls;
    for (let i = 0; i < 4 * SHAPER_REFRESH_S; i++) await f.tick(quiet);
    assertEquals(f.dl.calls - calls, 2, "tried at the refresh only");
    assertEquals(lines, [
      `setting ifb4wan to 100000 kbit/s failed (retrying every ${SHAPER_REFRESH_S} s while idle): ` +
      "RTNETLINK answers: simulated failure",
    ]);
  } finally {
    resetLogging();
  }
});

Deno.test("idle mode: baselines bridge the pause (a loaded first reply does not become the baseline)", async () => {
  const f = idleFixture();
  await f.loop.start();
  for (let i = 0; i < 30; i++) await f.tick({ dlKbit: 0, ulKbit: 0 }, 20);
  assertEquals(f.loop.state.idle, true);
  for (let i = 0; i < 120; i++) await f.tick({ dlKbit: 0, ulKbit: 0 }); // 60 s: past the 30 s stale gap
  await f.tick({ dlKbit: 80000, ulKbit: 15000 }, 20); // resumes; replies from the next tick on
  const r = await f.tick({ dlKbit: 80000, ulKbit: 15000 }, 120); // bufferbloat under the load
  assertEquals(r.path, "normal");
  const base = f.owd.baseline.get("p1")!;
  assert(base.down_ewma < 11, `baseline kept near 10 ms (60 if reset), got ${base.down_ewma}`);
  assert(r.readings!.down_del_stat > 20, `the delay shows: ${r.readings!.down_del_stat} ms`);
});

Deno.test("idle mode off (idle_mode=false): never pauses", async () => {
  const f = idleFixture({ idle_mode: false });
  await f.loop.start();
  for (let i = 0; i < 100; i++) {
    assertEquals((await f.tick({ dlKbit: 0, ulKbit: 0 })).path, "normal");
  }
  assertEquals(f.events, []);
});

Deno.test("Baseliner.bridgeGap: without it a pause longer than 30 s restarts the baseline", () => {
  for (const bridged of [false, true]) {
    const owd = createOwdState(["r"]);
    const b = new Baseliner(owd, { tickS: 0.5 });
    for (let t = 0; t <= 10; t += 0.5) {
      b.ingest({ reflector: "r", upMs: 10, downMs: 10, receiveTimeS: t });
    }
    if (bridged) b.bridgeGap(10, 100);
    const outcome = b.ingest({ reflector: "r", upMs: 60, downMs: 60, receiveTimeS: 100.5 });
    assertEquals(outcome, bridged ? "updated" : "reset-stale");
    const base = owd.baseline.get("r")!.down_ewma;
    assert(bridged ? base < 11 : base === 60, `bridged=${bridged}: baseline ${base}`);
  }
});

Deno.test("idle mode: a faster controller's loop ticks at min_change_interval while idle only", async () => {
  const f = idleFixture({ min_change_interval: 0.5 }, { intervalS: 0.1 });
  await f.loop.start();
  assertEquals(f.loop.nextIntervalS, 0.1, "controlling: the controller's own period");
  const quiet = { dlKbit: 50, ulKbit: 10 };
  while (!f.loop.state.idle) await f.tick(quiet);
  assertEquals(f.loop.nextIntervalS, 0.5, "idle: no samples to decide on, counters at the tick");
  await f.tick({ dlKbit: 80000, ulKbit: 15000 });
  assertEquals(f.loop.state.idle, false);
  assertEquals(f.loop.nextIntervalS, 0.1, "traffic is back: the controller's period again");
});

Deno.test("idle mode: readings are marked idle only while idle (the reader may block briefly)", async () => {
  const f = idleFixture();
  await f.loop.start();
  const quiet = { dlKbit: 50, ulKbit: 10 };
  while (!f.loop.state.idle) await f.tick(quiet);
  const entered = f.idleReads.length; // the reading that entered idle mode was taken before it
  for (let i = 0; i < 5; i++) await f.tick(quiet);
  await f.tick({ dlKbit: 80000, ulKbit: 15000 }); // read idle, then leaves idle mode
  await f.tick({ dlKbit: 80000, ulKbit: 15000 });
  assertEquals(f.idleReads.slice(0, entered).includes(true), false);
  assertEquals(f.idleReads.slice(entered), [true, true, true, true, true, true, false]);
});

Deno.test("driver: idle mode and back, resuming within one tick", async () => {
  const f = idleFixture();
  await f.loop.start();
  const ac = new AbortController();
  let load = { dlKbit: 50, ulKbit: 10 };
  let sleeps = 0;
  const sleep = (ms: number) => {
    sleeps++;
    if (sleeps === 30) load = { dlKbit: 80000, ulKbit: 15000 };
    f.advance(ms / 1000, load);
    if (sleeps === 33) ac.abort();
    return Promise.resolve();
  };
  const paths: string[] = [];
  await runControlLoop(f.loop, {
    signal: ac.signal,
    clock: f.clock,
    intervalS: () => f.loop.nextIntervalS,
    sleep,
    onTick: (r) => paths.push(r.path),
  });
  const firstIdle = paths.indexOf("idle");
  assert(firstIdle > 0 && firstIdle < 29, paths.join(" "));
  assertEquals(paths.slice(firstIdle, 29).every((p) => p === "idle"), true, paths.join(" "));
  // The load came during sleep 30: tick 30 (index 29) sees it and leaves idle mode.
  assertEquals(paths[29], "hold");
  assertEquals(f.loop.state.idle, false);
});
