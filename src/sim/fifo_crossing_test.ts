import { assert, assertAlmostEquals, assertEquals } from "../util/assert.ts";
import { settingsWithDefaults } from "../config/defaults.ts";
import type { PingReply } from "../measure/types.ts";
import { FifoCrossing } from "./fifo_crossing.ts";
import { LinkDirection, type StepResult } from "./link.ts";
import { runScenario } from "./engine.ts";
import { loadPlan } from "./load.ts";
import { builtinTrace } from "./trace.ts";

const DT = 0.01;

/** A download direction without a shaper, its bottleneck crossing, and the probes' departures. */
function bottleneck() {
  const link = new LinkDirection({ dir: "down", bufferBytes: 1e6 });
  const crossing = new FifoCrossing<string>(link.bottleneck, DT);
  const left: { id: string; t: number }[] = [];
  const res: StepResult = { delivered: 0, dropped: 0, aqmSignal: false };
  /** One 10 ms step ending at step k's time, then the crossing reads the queue. */
  const step = (k: number, arrivals: number, capKbit: number) => {
    link.step(k * DT, DT, arrivals, capKbit, res);
    crossing.leave(k * DT, (id, t) => left.push({ id, t }));
  };
  return { link, crossing, left, step };
}

Deno.test("a probe queued in a dip leaves early when the capacity returns, before any later one", () => {
  const { link, crossing, left, step } = bottleneck();
  // A dip (3 Mbit/s = 375 kB/s) with 150 kB offered at once: about 0.39 s of queue.
  step(0, 150_000, 3_000);
  const entryEstimateS = link.sparseDelayS(3_000);
  assert(entryEstimateS > 0.38, `queue ${entryEstimateS}`);
  crossing.enter(0, 0, "dip");
  for (let k = 1; k <= 10; k++) step(k, 0, 3_000);
  // The capacity returns at 0.1 s (30 Mbit/s = 3.75 MB/s); a probe enters at 0.2 s.
  for (let k = 11; k <= 60; k++) {
    step(k, 0, 30_000);
    if (k === 20) crossing.enter(k * DT, k * DT, "after");
  }
  assertEquals(left.map((l) => l.id), ["dip", "after"]);
  // The bytes ahead of "dip" left at the returned rate: 0.1 s + the rest at 3.75 MB/s.
  const rest = 150_000 - 375_000 * 0.11;
  assertAlmostEquals(left[0].t, 0.1 + rest / 3_750_000, 0.011);
  assert(left[0].t < entryEstimateS / 2, `left at ${left[0].t}`);
  assertAlmostEquals(left[1].t, 0.2, 1e-9);
});

Deno.test("a probe never leaves a FIFO before one that entered it earlier", () => {
  const { crossing, left, step } = bottleneck();
  step(0, 100_000, 10_000);
  crossing.enter(0, 0, "first");
  // The second enters within the next step with the backlog interpolated across it; it cannot
  // leave before the first however the marks fall.
  step(1, 0, 10_000);
  crossing.enter(DT, 0.005, "second");
  for (let k = 2; k < 100; k++) step(k, k % 7 === 0 ? 20_000 : 0, k < 30 ? 10_000 : 50_000);
  assertEquals(left.map((l) => l.id), ["first", "second"]);
  assert(left[1].t >= left[0].t);
  assertEquals(crossing.size, 0);
});

Deno.test("no backlog: a probe crosses at once", () => {
  const { crossing, left, step } = bottleneck();
  step(0, 1_000, 10_000);
  crossing.enter(0, 0, "p");
  step(1, 1_000, 10_000);
  assertEquals(left, [{ id: "p", t: 0 }]);
});

Deno.test("a shrinking buffer (a tbf bottleneck at a capacity drop) drops bytes ahead of a probe", () => {
  const link = new LinkDirection({ dir: "down", bufferBytes: 0, bufferAtCapacityS: 0.25 });
  const crossing = new FifoCrossing<string>(link.bottleneck, DT);
  const left: number[] = [];
  const res: StepResult = { delivered: 0, dropped: 0, aqmSignal: false };
  // 250 ms of queue at 20 Mbit/s (625 kB), then the capacity falls to 2 Mbit/s: the buffer
  // shrinks to 62.5 kB and the probe has at most that ahead of it, 0.25 s at the new rate.
  link.step(0, DT, 700_000, 20_000, res);
  crossing.enter(0, 0, "p");
  for (let k = 1; k < 100 && left.length === 0; k++) {
    link.step(k * DT, DT, 0, 2_000, res);
    crossing.leave(k * DT, (_, t) => left.push(t));
  }
  assertEquals(left.length, 1);
  assert(left[0] > 0.2 && left[0] < 0.27, `left at ${left[0]}`);
});

Deno.test("lte without a shaper: every reflector's replies arrive in the order they were sent", async () => {
  // Deep dips under a full ISP buffer: 1–2 s of queue that the returning capacity drains in
  // ~0.1 s. Sampled at entry, the probes sent after a dip's end overtook those sent in it
  // (docs/controllers.md, "The simulator and late replies").
  const trace = builtinTrace("lte", { durationS: 120, seed: 1 });
  const replies: PingReply[] = [];
  const run = await runScenario({
    scenario: "controller",
    settings: settingsWithDefaults({ base_dl_rate: 30_000, base_ul_rate: 8_000 }),
    trace,
    load: loadPlan("saturate", { durationS: 120, seed: 1, nominal: trace.nominal }),
    durationS: 120,
    seed: 1,
    pipeline: (hooks) => ({
      name: "recorder",
      peers: () => hooks.pool.slice(0, 5),
      onReply: (r) => replies.push(r),
      tick: () => {},
    }),
  });
  assert(run.down.maxRecoveryS !== null || run.down.unrecoveredDrops > 0, "lte has dips");
  assert(replies.length > 1000, `${replies.length} replies`);
  const lastSeq = new Map<string, number>();
  let late = 0;
  for (const r of replies) {
    if (r.seq < (lastSeq.get(r.reflector) ?? -1)) late++;
    lastSeq.set(r.reflector, Math.max(r.seq, lastSeq.get(r.reflector) ?? -1));
  }
  assertEquals(late, 0);
  // And the queue was deep enough that it could have happened: replies with over 1 s of RTT.
  assert(replies.some((r) => r.rttMs > 1000), "no deep queue");
});
