import { assert, assertEquals } from "../util/assert.ts";
import { settingsWithDefaults } from "../config/defaults.ts";
import { collectDeltas, delayStatistic } from "../control/deltas.ts";
import { runScenario, type SimHooks, type SimPipeline } from "./engine.ts";
import { parseTraceCsv } from "./trace.ts";
import { VirtualClock } from "../util/clock.ts";
import {
  daemonPipeline,
  SimCounterReader,
  simMeasurement,
  SimPinger,
  SimReadClock,
  SimShaper,
  VirtualTimers,
} from "./pipeline.ts";

/**
 * A pipeline with the real measurement half and no controller: the shaper stays where the
 * test put it, each tick records the delay statistic the control loop would see.
 */
async function observingPipeline(
  hooks: SimHooks,
  rates: { dl: number; ul: number },
  seen: { t: number; dl: number; ul: number; fresh: number }[],
): Promise<SimPipeline> {
  const m = await simMeasurement(hooks);
  hooks.setDlRate(rates.dl);
  hooks.setUlRate(rates.ul);
  return {
    name: "observer",
    peers: () => m.pinger.reflectors,
    onReply: m.ingest,
    advance: m.advance,
    tick: () => {
      const now = hooks.clock.monotonicS();
      const d = collectDeltas(m.owd, now, { tickInterval: hooks.settings.tick_interval });
      seen.push({
        t: now,
        dl: delayStatistic(d.dl) ?? NaN,
        ul: delayStatistic(d.ul) ?? NaN,
        fresh: d.fresh,
      });
    },
    reselects: () => m.reselect.count,
    close: () => m.measurement.stop(),
  };
}

for (const mode of ["icmp-timestamps", "icmp"] as const) {
  Deno.test(`reflector replies through the real baseliner show the queueing delay (${mode})`, async () => {
    const trace = parseTraceCsv("time_s,down_kbit,up_kbit\n0,10000,2000\n", { durationS: 60 });
    const settings = settingsWithDefaults({
      base_dl_rate: 10_000,
      base_ul_rate: 2_000,
      measurement_type: mode,
    });
    const seen: { t: number; dl: number; ul: number; fresh: number }[] = [];
    // Idle for 20 s (baselines settle), then saturate with the shaper far above capacity.
    const load = {
      name: "late",
      down: [{ start: 20, end: 60, kind: "tcp" as const }],
      up: [{ start: 20, end: 60, kind: "tcp" as const }],
    };
    const run = await runScenario({
      scenario: "controller",
      settings,
      trace,
      load,
      durationS: 45,
      seed: 3,
      maxLoss: 0,
      // Each direction's queue on its own (the ACK path would slow both: engine_test.ts).
      ackPath: false,
      pipeline: (hooks) => observingPipeline(hooks, { dl: 50_000, ul: 10_000 }, seen),
    });
    const idle = seen.filter((s) => s.t > 5 && s.t < 20);
    // Until the selector's first timed reselection (~31.6 s): after it, reflectors new to the
    // peer set start their baselines under load (as in the daemon) and hide the queue.
    const loaded = seen.filter((s) => s.t > 23 && s.t < 31);
    assert(idle.every((s) => s.fresh >= 5), "enough fresh reflectors");
    assert(idle.every((s) => s.dl < 3 && s.ul < 3), "idle deltas small");
    // Bufferbloat of ~250 ms per direction; echo mode halves the RTT sum, so both see ~250.
    const mid = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const dl = mid(loaded.map((s) => s.dl));
    const ul = mid(loaded.map((s) => s.ul));
    assert(dl > 120 && dl < 400, `dl statistic ${dl}`);
    assert(ul > 120 && ul < 400, `ul statistic ${ul}`);
    assertEquals(run.label, "observer");
  });
}

Deno.test("SimShaper and SimCounterReader talk to the engine hooks", async () => {
  let rate = 0;
  const shaper = new SimShaper("x", (k) => (rate = k));
  await shaper.setRate(1234);
  assertEquals(rate, 1234);
  assertEquals(await shaper.readRate(), 1234);
  let failed = false;
  await shaper.setRate(Number.NaN).catch(() => (failed = true));
  assert(failed);
  const reader = new SimCounterReader({ counters: { dlBytes: () => 10.7, ulBytes: () => 3 } });
  const r = await reader.read();
  assertEquals([r?.dlBytes, r?.ulBytes], [10, 3]);
});

Deno.test("a delayed counter read moves the loop's clock to its end until the engine passes it (v84)", async () => {
  const engine = new VirtualClock(10);
  const clock = new SimReadClock(engine);
  const reader = new SimCounterReader({
    counters: {
      dlBytes: () => 1,
      ulBytes: () => 2,
      beginRead: () => ({ sampleS: 0.001, doneS: 0.004 }),
    },
  }, clock);
  assertEquals(clock.monotonicS(), 10);
  await reader.read();
  assertEquals(clock.monotonicS(), 10.004);
  assert(Math.abs(clock.wallMs() - engine.wallMs() - 4) < 1e-6);
  engine.set(10.002);
  assertEquals(clock.monotonicS(), 10.004); // never backwards
  engine.set(10.01);
  assertEquals(clock.monotonicS(), 10.01);
});

Deno.test("virtual timers fire in time order when the clock reaches them", () => {
  let now = 0;
  const timers = new VirtualTimers({ monotonicS: () => now });
  const fired: string[] = [];
  timers.setTimeout(() => fired.push("b"), 2000);
  timers.setTimeout(() => {
    fired.push("a");
    timers.setTimeout(() => fired.push("c"), 500); // armed while running: at 1.5 s
  }, 1000);
  const cancelled = timers.setTimeout(() => fired.push("x"), 1200);
  timers.clearTimeout(cancelled);
  now = 0.9;
  timers.runDue(now);
  assertEquals(fired, []);
  // The engine advances in 10 ms steps; a timer armed while firing counts from that step.
  const at: Record<string, number> = {};
  for (let k = 91; k <= 300; k++) {
    now = k / 100;
    timers.runDue(now);
    for (const f of fired) at[f] ??= now;
  }
  assertEquals(fired, ["a", "c", "b"]);
  assertEquals(at, { a: 1, c: 1.5, b: 2 });
});

Deno.test("the daemon pipeline's idle mode stops probing in a quiet stretch and resumes on load", async () => {
  const trace = parseTraceCsv("time_s,down_kbit,up_kbit\n0,10000,2000\n", { durationS: 240 });
  const load = {
    name: "quiet-then-load",
    down: [{ start: 180, end: 240, kind: "tcp" as const }],
    up: [{ start: 180, end: 240, kind: "tcp" as const }],
  };
  const sent: Record<string, number> = {};
  const util: Record<string, number> = {};
  for (const idle_mode of [true, false]) {
    const settings = settingsWithDefaults({ base_dl_rate: 10_000, base_ul_rate: 2_000, idle_mode });
    const run = await runScenario({
      scenario: "controller",
      settings,
      trace,
      load,
      durationS: 240,
      seed: 1,
      pipeline: (hooks) => daemonPipeline(hooks),
    });
    sent[String(idle_mode)] = run.probes.sent;
    util[String(idle_mode)] = run.down.utilisationPct ?? 0;
  }
  // Without idle mode: ~10 probes/s for 240 s. With it: pinging stops after ~60 s of quiet and
  // comes back with the load at 180 s (~60 s + ~60 s of probes).
  assert(sent["false"] > 2000, `probes without idle mode ${sent["false"]}`);
  assert(sent["true"] < 0.65 * sent["false"], `probes with idle mode ${sent["true"]}`);
  assert(sent["true"] > 0.35 * sent["false"], `probing resumed: ${sent["true"]}`);
  // Back under load, the controller runs on fresh samples again: the link is used.
  assert(util["true"] > 50, `utilisation after idle mode ${util["true"]} %`);
});

Deno.test("in idle mode the simulated loop ticks every min_change_interval, as the daemon's driver", async () => {
  const trace = parseTraceCsv("time_s,down_kbit,up_kbit\n0,10000,2000\n", { durationS: 200 });
  const load = {
    name: "quiet-then-load",
    down: [{ start: 150, end: 200, kind: "tcp" as const }],
    up: [{ start: 150, end: 200, kind: "tcp" as const }],
  };
  // capacity decides every tick_interval / num_reflectors (0.1 s) while it has samples.
  const settings = settingsWithDefaults({
    base_dl_rate: 10_000,
    base_ul_rate: 2_000,
    rate_controller: "capacity",
  });
  const ticks: number[] = [];
  const run = await runScenario({
    scenario: "controller",
    settings,
    trace,
    load,
    durationS: 200,
    seed: 1,
    pipeline: async (hooks) => {
      const p = await daemonPipeline(hooks);
      return { ...p, tick: () => (ticks.push(hooks.clock.monotonicS()), p.tick()) };
    },
  });
  const within = (a: number, b: number) => ticks.filter((t) => t >= a && t < b).length;
  assert(Math.abs(within(10, 40) - 300) <= 2, `before idle: ${within(10, 40)} ticks in 30 s`);
  assert(Math.abs(within(100, 140) - 80) <= 2, `idle: ${within(100, 140)} ticks in 40 s`);
  assert(Math.abs(within(160, 190) - 300) <= 2, `after idle: ${within(160, 190)} ticks in 30 s`);
  // The run counts them (sim_seeds' decisions/s: the daemon's wake-ups, docs/footprint.md).
  assertEquals(run.decisions, ticks.length);
});

Deno.test("SimPinger: the same set and plan published again is no switch (a restart of silent children only)", async () => {
  const pinger = new SimPinger({ tool: "fping", mode: "echo" });
  await pinger.start(["a", "b"]);
  const plan = { periodS: 0.5, slow: { reflectors: ["c", "d"], periodS: 2 } };
  await pinger.setReflectors(["a", "b", "c", "d"], plan);
  await pinger.setReflectors(["b", "a", "d", "c"], { periodS: 0.5, slow: { ...plan.slow } });
  assertEquals(pinger.switches, 1);
  await pinger.setReflectors(["a", "b", "c", "d"], { periodS: 0.5 });
  await pinger.setReflectors(["a", "b"], { periodS: 0.5 });
  assertEquals(pinger.switches, 3);
});
