import { assert, assertEquals } from "../util/assert.ts";
import { settingsWithDefaults } from "../config/defaults.ts";
import { builtinTrace, formatSummaryTable, simulate, summaryOf } from "./mod.ts";
import { daemonPipeline } from "./pipeline.ts";
import type { CounterRead } from "./counter_read.ts";

async function ewmaOnStep(seed: number, durationS = 120) {
  const trace = builtinTrace("step", { durationS, seed });
  const [run] = await simulate({
    settings: settingsWithDefaults({ rate_controller: "ewma" }),
    trace,
    load: "saturate",
    durationS,
    seed,
    pipeline: (hooks) => daemonPipeline(hooks),
  });
  return { run };
}

Deno.test("same seed gives an identical EWMA summary, another seed a different one", async () => {
  const a = summaryOf((await ewmaOnStep(5, 60)).run);
  const b = summaryOf((await ewmaOnStep(5, 60)).run);
  assertEquals(JSON.stringify(a), JSON.stringify(b));
  const c = summaryOf((await ewmaOnStep(6, 60)).run);
  assert(JSON.stringify(a) !== JSON.stringify(c));
});

Deno.test("EWMA on the step trace: the rate follows the capacity drop and the recovery", async () => {
  const { run } = await ewmaOnStep(1);
  assertEquals(run.label, "ewma");
  const s = run.series.down;
  const step = run.series.stepS;
  const meanShaper = (from: number, to: number) => {
    let sum = 0, n = 0;
    for (let i = Math.round(from / step); i < Math.round(to / step); i++) {
      sum += s.shaper[i];
      n++;
    }
    return sum / n;
  };
  // Capacity 20 Mbit/s, halved during [40, 80) s.
  const before = meanShaper(20, 40);
  const during = meanShaper(45, 80);
  const after = meanShaper(100, 120);
  assert(before > 13_000 && before < 24_000, `before ${before}`);
  assert(during < 0.75 * before, `during ${during} vs before ${before}`);
  assert(during > 5_000 && during < 12_000, `during ${during}`);
  assert(after > 1.4 * during, `after ${after} vs during ${during}`);
  // The queue built by the drop is drained: delay is back under the threshold within seconds.
  assertEquals(run.down.recoveriesS.length, 1);
  assert(
    run.down.recoveriesS[0] !== null && run.down.recoveriesS[0] < 5,
    `${run.down.recoveriesS}`,
  );
  assertEquals(run.unrecoveredDrops, 0);
  // Far better than no shaper (~250–500 ms) while carrying most of the capacity.
  assert(run.p95DelayMs !== null && run.p95DelayMs < 200, `p95 ${run.p95DelayMs}`);
  assert(run.utilisationPct !== null && run.utilisationPct > 60, `util ${run.utilisationPct}`);
  assert(run.down.rateChanges > 20);
});

Deno.test("compare runs the four scenarios on the same trace and seed", async () => {
  const trace = builtinTrace("step", { durationS: 30, seed: 2 });
  const runs = await simulate({
    settings: settingsWithDefaults({ rate_controller: "ewma" }),
    trace,
    load: "saturate",
    durationS: 30,
    seed: 2,
    compare: true,
    pipeline: (hooks) => daemonPipeline(hooks),
  });
  assertEquals(runs.map((r) => r.label), ["ewma", "no shaper", "static", "oracle"]);
  const [ewma, none, , oracle] = runs;
  assert(none.p95DelayMs! > 100, `no shaper p95 ${none.p95DelayMs}`);
  assert(oracle.p95DelayMs! < none.p95DelayMs! / 10);
  assert(ewma.p95DelayMs! < none.p95DelayMs!);
  const table = formatSummaryTable(runs);
  for (const label of ["ewma", "no shaper", "static", "oracle", "p95 added delay"]) {
    assert(table.includes(label), label);
  }
});

Deno.test("a Lua ratecontroller and plugins run in the simulated pipeline", async () => {
  const trace = builtinTrace("step", { durationS: 40, seed: 4 });
  const once = async (overrides: Parameters<typeof settingsWithDefaults>[0]) =>
    (await simulate({
      // A generous Lua time limit: a timeout on a loaded machine would change the run.
      settings: settingsWithDefaults({
        rate_controller: "ewma",
        lua_time_limit_ms: 2000,
        ...overrides,
      }),
      trace,
      load: "saturate",
      durationS: 40,
      seed: 4,
      pipeline: (hooks) => daemonPipeline(hooks),
    }))[0];
  const ts = await once({});
  const lua = await once({ rate_controller: "builtin:ewma" });
  assertEquals(lua.label, "ewma (lua)");
  // The shipped Lua EWMA draws the same random numbers as the TypeScript one.
  assertEquals(
    JSON.stringify(summaryOf({ ...lua, label: "x" })),
    JSON.stringify(summaryOf({ ...ts, label: "x" })),
  );
  const withPlugin = await once({ plugin_scripts: ["builtin:log_readings"] });
  assertEquals(withPlugin.label, "ewma + builtin:log_readings");
  // A plugin that returns {} changes nothing: loading it draws nothing from the run's randomness.
  assertEquals(
    JSON.stringify(summaryOf({ ...withPlugin, label: "x" })),
    JSON.stringify(summaryOf({ ...ts, label: "x" })),
  );
});

Deno.test("RTT-only pinger: an upload queue cuts download too; with timestamps it does not", async () => {
  const trace = builtinTrace("step", { durationS: 30, seed: 1 });
  // Upload saturated, download idle: only the upload queue grows.
  const load = { name: "upload only", down: [], up: [{ start: 0, end: 30, kind: "tcp" as const }] };
  const lowestDownRate = async (pinger: "fping" | "tsping") => {
    const [run] = await simulate({
      settings: settingsWithDefaults({
        rate_controller: "ewma",
        pinger,
        base_dl_rate: 20_000,
        base_ul_rate: 5_000,
      }),
      trace,
      load,
      durationS: 30,
      seed: 1,
      pipeline: (hooks) => daemonPipeline(hooks),
    });
    return Math.min(...run.series.down.shaper);
  };
  const withTimestamps = await lowestDownRate("tsping");
  const rttOnly = await lowestDownRate("fping");
  // Start-up sets 0.6 × base; EWMA only decays toward base while download is idle and calm.
  assert(withTimestamps >= 0.6 * 20_000 - 1, `tsping: lowest download rate ${withTimestamps}`);
  assert(rttOnly < 0.5 * 20_000, `fping: lowest download rate ${rttOnly}`);
});

Deno.test("remote reads and rate changes take their round trips: a tick over its period delays the next (v87); a tick's two changes take one", async () => {
  const run = async (counterRead?: CounterRead) => {
    const durationS = 60;
    const trace = builtinTrace("step", { durationS, seed: 1 });
    const [r] = await simulate({
      settings: settingsWithDefaults({ rate_controller: "capacity" }),
      trace,
      load: "saturate",
      durationS,
      seed: 1,
      pipeline: (hooks) => daemonPipeline(hooks),
      engine: { counterRead },
    });
    return r.decisions / durationS;
  };
  const legs = (ms: number) => ({
    fixedMs: ms,
    meanMs: 0,
    tailShare: 0,
    tailMeanMs: 0,
    seen: true,
  });
  const exact = await run();
  // Legs of 5 ms: 20 ms a tick, within the 100 ms period.
  const near = await run(legs(5));
  // Legs of 25 ms (a 50 ms round trip): the read and the tick's changes, written together, take
  // 100 ms, within the period (one round trip a change: 150 ms, 9.2 decisions a second).
  const fits = await run(legs(25));
  // Legs of 40 ms: 160 ms a tick that changes a rate.
  const remote = await run(legs(40));
  assert(exact > 9.9, `${exact} decisions/s`);
  assertEquals(near, exact);
  assert(fits > 9.9, `${fits} decisions/s`);
  // Not every decision changes a rate: more than 6.25 a second.
  assert(remote > 6.25 && remote < 9.5, `${remote} decisions/s`);
});

Deno.test("remote rate changes land half their round trip after the tick's read; exact reads land at once", async () => {
  const run = async (counterRead?: CounterRead) => {
    const durationS = 20;
    const landed: { atS?: number; nowS: number }[] = [];
    await simulate({
      settings: settingsWithDefaults({ rate_controller: "capacity" }),
      trace: builtinTrace("step", { durationS, seed: 1 }),
      load: "saturate",
      durationS,
      seed: 1,
      pipeline: (hooks) =>
        daemonPipeline({
          ...hooks,
          setDlRate: (kbit, atS) => {
            landed.push({ atS, nowS: hooks.clock.monotonicS() });
            hooks.setDlRate(kbit, atS);
          },
        }),
      engine: { counterRead },
    });
    return landed;
  };
  const exact = await run();
  assert(exact.length > 20 && exact.every((l) => l.atS === undefined));
  // Legs of 40 ms: the read ends 80 ms after the tick, the change lands 40 ms after that.
  const remote = await run({ fixedMs: 40, meanMs: 0, tailShare: 0, tailMeanMs: 0, seen: true });
  const afterStart = remote.slice(1);
  assert(afterStart.length > 20, `${afterStart.length} changes`);
  for (const l of afterStart) {
    assert(l.atS !== undefined && Math.abs(l.atS - l.nowS - 0.12) < 1e-9, JSON.stringify(l));
  }
});
