import { assert, assertEquals } from "../util/assert.ts";
import { settingsWithDefaults } from "../config/defaults.ts";
import { type ReadBursts, TESTBED_COUNTER_READ } from "./counter_read.ts";
import { runScenario } from "./engine.ts";
import { lag1Autocorrelation, median } from "../util/stats.ts";
import { loadPlan } from "./load.ts";
import { type CapacityTrace, parseTraceCsv } from "./trace.ts";

function flatTrace(downKbit: number, upKbit: number): CapacityTrace {
  return parseTraceCsv(`time_s,down_kbit,up_kbit\n0,${downKbit},${upKbit}\n`, { durationS: 60 });
}

function settingsFor(down: number, up: number) {
  return settingsWithDefaults({ base_dl_rate: down, base_ul_rate: up });
}

Deno.test("a static shaper above capacity reproduces bufferbloat of about buffer / capacity", async () => {
  const trace = flatTrace(10_000, 2_000);
  // Shaper at twice the capacity: the ISP FIFO, 250 ms at nominal capacity, fills up.
  const run = await runScenario({
    scenario: "static",
    settings: settingsFor(20_000, 4_000),
    trace,
    load: loadPlan("saturate", { durationS: 40, seed: 1, nominal: trace.nominal }),
    durationS: 40,
    seed: 1,
    bufferMs: 250,
    // Each direction's bufferbloat on its own: with the ACK path the ACKs' wait in the other full
    // queue slows both (the ACK path's own tests below).
    ackPath: false,
  });
  // Drop-tail + AIMD: the queue saws between ~70 % and 100 % of the buffer.
  for (const d of [run.down, run.up]) {
    assert(
      d.p99DelayMs !== null && d.p99DelayMs > 200 && d.p99DelayMs <= 251,
      `p99 ${d.p99DelayMs}`,
    );
    assert(d.p50DelayMs !== null && d.p50DelayMs > 100, `p50 ${d.p50DelayMs}`);
    assert(d.utilisationPct !== null && d.utilisationPct > 95, `util ${d.utilisationPct}`);
    assert(d.aboveThresholdPct !== null && d.aboveThresholdPct > 80);
  }
});

Deno.test("bufferbloat scales with the buffer: 500 ms buffer, about twice the delay", async () => {
  const trace = flatTrace(10_000, 2_000);
  const run = await runScenario({
    scenario: "none",
    settings: settingsFor(10_000, 2_000),
    trace,
    load: loadPlan("saturate", { durationS: 40, seed: 1, nominal: trace.nominal }),
    durationS: 40,
    seed: 1,
    bufferMs: 500,
  });
  assert(run.down.p99DelayMs! > 400 && run.down.p99DelayMs! <= 501, `p99 ${run.down.p99DelayMs}`);
});

Deno.test("the oracle (95 % of capacity) keeps added delay near zero at high utilisation", async () => {
  const trace = flatTrace(10_000, 2_000);
  const run = await runScenario({
    scenario: "oracle",
    settings: settingsFor(10_000, 2_000),
    trace,
    load: loadPlan("saturate", { durationS: 40, seed: 1, nominal: trace.nominal }),
    durationS: 40,
    seed: 1,
  });
  // Upload: the shaper sits before the bottleneck, which never queues.
  assert(run.up.p99DelayMs !== null && run.up.p99DelayMs < 1, `up p99 ${run.up.p99DelayMs}`);
  // Download: the shaper sits behind it; window growth of the senders still briefly
  // overruns the ISP link, a few ms only (the no-shaper case is ~250 ms).
  assert(run.down.p95DelayMs !== null && run.down.p95DelayMs < 10, `p95 ${run.down.p95DelayMs}`);
  for (const d of [run.down, run.up]) {
    assert(d.utilisationPct! > 88 && d.utilisationPct! <= 95.5, `util ${d.utilisationPct}`);
  }
});

Deno.test("idle load: nothing is loaded, delay metrics are n/a", async () => {
  const trace = flatTrace(10_000, 2_000);
  const run = await runScenario({
    scenario: "none",
    settings: settingsFor(10_000, 2_000),
    trace,
    load: loadPlan("idle", { durationS: 10, seed: 1, nominal: trace.nominal }),
    durationS: 10,
    seed: 1,
  });
  assertEquals(run.down.p95DelayMs, null);
  assertEquals(run.down.loadedS, 0);
  assertEquals(run.p95DelayMs, null);
});

Deno.test("same seed gives an identical summary; another seed a different one", async () => {
  const trace = flatTrace(10_000, 2_000);
  const once = async (seed: number) => {
    const r = await runScenario({
      scenario: "static",
      settings: settingsFor(9_000, 1_800),
      trace,
      load: loadPlan("bursty", { durationS: 30, seed, nominal: trace.nominal }),
      durationS: 30,
      seed,
    });
    const { series: _s, ...summary } = r;
    return JSON.stringify(summary);
  };
  assertEquals(await once(7), await once(7));
  assert(await once(7) !== await once(8));
});

Deno.test("recovery after a capacity drop: none without shaper, fast with the oracle", async () => {
  const trace = parseTraceCsv("time_s,down_kbit,up_kbit\n0,10000,2000\n10,4000,800\n", {
    durationS: 30,
  });
  const common = {
    settings: settingsFor(10_000, 2_000),
    trace,
    load: loadPlan("saturate", { durationS: 30, seed: 1, nominal: trace.nominal }),
    durationS: 30,
    seed: 1,
  };
  const none = await runScenario({ scenario: "none", ...common });
  assertEquals(none.down.recoveriesS, [null]);
  assertEquals(none.unrecoveredDrops, 2);
  const oracle = await runScenario({ scenario: "oracle", ...common });
  assertEquals(oracle.down.recoveriesS.length, 1);
  assert(oracle.down.recoveriesS[0] !== null && oracle.down.recoveriesS[0] < 1);
});

Deno.test("shaper kind: a TBF/HTB FIFO queues the probe too (~20 ms); CAKE isolates it", async () => {
  const trace = flatTrace(10_000, 8_000);
  const p95 = async (shaper: "cake" | "tbf") => {
    // The shaper at 90 % of capacity is the bottleneck: the ISP queue stays empty.
    const run = await runScenario({
      scenario: "static",
      settings: settingsWithDefaults({ base_dl_rate: 9_000, base_ul_rate: 7_200, shaper }),
      trace,
      load: loadPlan("saturate", { durationS: 20, seed: 1, nominal: trace.nominal }),
      durationS: 20,
      seed: 1,
    });
    return run.up.p95DelayMs!;
  };
  const cake = await p95("cake");
  const tbf = await p95("tbf");
  assert(cake < 1, `cake: upload p95 ${cake} ms`);
  // 20 ms at 7.2 Mbit/s plus the daemon's burst (5 ms at the rate, 4500 bytes): at most 25 ms.
  assert(tbf > 10 && tbf <= 25 + 1e-9, `tbf: upload p95 ${tbf} ms`);
});

Deno.test("--buffer-scales: the ISP buffer is time at the current capacity", async () => {
  const trace = parseTraceCsv("time_s,down_kbit,up_kbit\n0,10000,2000\n10,4000,800\n", {
    durationS: 30,
  });
  const p99After = async (bufferScales: boolean) => {
    const run = await runScenario({
      scenario: "none",
      settings: settingsFor(10_000, 2_000),
      trace,
      load: loadPlan("saturate", { durationS: 30, seed: 1, nominal: trace.nominal }),
      durationS: 30,
      seed: 1,
      bufferMs: 200,
      bufferScales,
    });
    return run.down.p99DelayMs!;
  };
  // Fixed bytes: 200 ms at 10 Mbit/s is 500 ms at 4 Mbit/s; scaled: 200 ms at any rate.
  assert((await p99After(false)) > 400, "fixed buffer");
  const scaled = await p99After(true);
  assert(scaled > 150 && scaled <= 201, `scaled buffer p99 ${scaled}`);
});

Deno.test("--down-shaper-on-lan: the daemon's probe replies skip a tbf download shaper's queue, the sparse probe does not", async () => {
  const trace = flatTrace(10_000, 8_000);
  const run = async (downShaperOnLan: boolean) => {
    const rtts: number[] = [];
    const sparse: number[] = [];
    await runScenario({
      scenario: "controller",
      settings: settingsWithDefaults({ base_dl_rate: 9_000, base_ul_rate: 7_200, shaper: "tbf" }),
      trace,
      load: loadPlan("download", { durationS: 20, seed: 1, nominal: trace.nominal }),
      durationS: 20,
      seed: 1,
      downShaperOnLan,
      onStep: (t, d) => t > 5 && sparse.push(d.downMs),
      // A pipeline that only probes and holds the shaper at 90 % of capacity: the shaper is the
      // bottleneck, its FIFO fills, the ISP's stays empty.
      pipeline: (hooks) => {
        hooks.setDlRate(9_000);
        hooks.setUlRate(7_200);
        return {
          name: "probe only",
          peers: () => ["192.0.2.1"],
          onReply: (r) => r.receiveTimeS > 5 && rtts.push(r.rttMs),
          tick: () => {},
        };
      },
    });
    return { rtt: median(rtts), sparse: median(sparse) };
  };
  const through = await run(false);
  const onLan = await run(true);
  assert(through.sparse > 15 && onLan.sparse > 15, "the sparse probe waits in the FIFO both times");
  const skipped = through.rtt - onLan.rtt;
  assert(skipped > 15 && skipped < 25, `the daemon's replies skip ~20 ms of FIFO (${skipped} ms)`);
});

Deno.test("onStep's ours: the sparse delay spent in a full tbf FIFO; none with CAKE", async () => {
  const trace = flatTrace(10_000, 8_000);
  const run = async (shaper: "tbf" | "cake") => {
    const total: number[] = [];
    const ours: number[] = [];
    await runScenario({
      scenario: "controller",
      settings: settingsWithDefaults({ base_dl_rate: 9_000, base_ul_rate: 7_200, shaper }),
      trace,
      load: loadPlan("download", { durationS: 20, seed: 1, nominal: trace.nominal }),
      durationS: 20,
      seed: 1,
      downShaperOnLan: true,
      onStep: (t, d) => {
        if (t <= 5) return;
        total.push(d.downMs);
        ours.push(d.oursDownMs);
      },
      // The shaper held at 90 % of capacity: its FIFO fills, the ISP's stays empty.
      pipeline: (hooks) => {
        hooks.setDlRate(9_000);
        hooks.setUlRate(7_200);
        return { name: "hold", peers: () => ["192.0.2.1"], onReply: () => {}, tick: () => {} };
      },
    });
    return { total: median(total), ours: median(ours) };
  };
  const tbf = await run("tbf");
  assert(tbf.ours > 15 && tbf.total - tbf.ours < 2, `tbf: ${JSON.stringify(tbf)}`);
  const cake = await run("cake");
  assertEquals(cake.ours, 0);
});

Deno.test("ACK path: a download starting against a standing upload queue ramps up later; an idle upload changes nothing", async () => {
  const trace = flatTrace(20_000, 10_000);
  const run = (ackPath: boolean, upload: boolean) =>
    runScenario({
      scenario: "none", // no shaper: the upload's ISP FIFO keeps a standing queue
      settings: settingsFor(20_000, 10_000),
      trace,
      load: {
        name: "late download",
        down: [{ start: 10, end: 30, kind: "tcp" }],
        up: upload ? [{ start: 0, end: 30, kind: "tcp" }] : [],
      },
      durationS: 30,
      seed: 1,
      ackPath,
    });
  const [off, on] = [await run(false, true), await run(true, true)];
  const rampOff = off.down.rampupsS[0]!, rampOn = on.down.rampupsS[0]!;
  // The upload's queue (~200 ms) is in the download's RTT: slow start and the window's growth
  // take that much longer per round trip (seed 1: 0 → 5.85 s, 99.97 → 74.65 %).
  assert(on.up.p50DelayMs! > 100, `upload queue ${on.up.p50DelayMs} ms`);
  assert(rampOn > rampOff + 2, `ramp-up ${rampOn} s with the ACK path, ${rampOff} s without`);
  assert(
    on.down.utilisationPct! < off.down.utilisationPct! - 10,
    `download ${on.down.utilisationPct} % with the ACK path, ${off.down.utilisationPct} % without`,
  );
  const { series: _a, ...idleOff } = await run(false, false);
  const { series: _b, ...idleOn } = await run(true, false);
  assertEquals(idleOn, idleOff);
});

Deno.test("ACK path: the download's ACKs queued in an upload dip return when the upload's capacity does", async () => {
  // Upload 10 → 1 → 10 Mbit/s at 10 and 12 s; the ISP's buffers are 300 ms at their capacity.
  const trace = parseTraceCsv(
    "time_s,down_kbit,up_kbit\n0,20000,10000\n10,20000,1000\n12,20000,10000\n",
    {
      durationS: 30,
    },
  );
  const run = await runScenario({
    // Static tbf shapers below both capacities: the download's window stays near its short path.
    scenario: "static",
    settings: settingsWithDefaults({ base_dl_rate: 18_000, base_ul_rate: 9_000, shaper: "tbf" }),
    trace,
    load: {
      name: "two-way",
      down: [{ start: 0, end: 30, kind: "tcp" }],
      up: [{ start: 0, end: 30, kind: "tcp" }],
    },
    durationS: 30,
    seed: 1,
    bufferMs: 300,
    bufferScales: true,
    ackPath: true,
  });
  const s = run.series;
  const mean = (from: number, to: number) => {
    let sum = 0;
    const [i0, i1] = [Math.round(from / s.stepS), Math.round(to / s.stepS)];
    for (let i = i0; i < i1; i++) sum += s.down.throughput[i];
    return sum / (i1 - i0);
  };
  const dip = mean(11, 12), after = mean(12.1, 12.3);
  // In the dip the ACKs wait ~300 ms in the upload's full queue; once it serves 10 Mbit/s
  // again that queue empties in ~30 ms and lets them all go: the download speeds up at once,
  // not after the 300 ms the ACKs were due when they entered.
  assert(dip < 5_000, `download ${dip} kbit/s in the dip`);
  assert(after > 3 * dip, `download ${after} kbit/s at 12.1–12.3 s, ${dip} in the dip`);
});

Deno.test("counter scale and lag: the upload counter reads its share; a lag scatters each read, never the count", async () => {
  const trace = flatTrace(10_000, 5_000);
  const run = async (o: { upCounterScale?: number; counterLagMs?: number }) => {
    const reads: { t: number; dl: number; ul: number }[] = [];
    let now = 0;
    await runScenario({
      scenario: "controller",
      settings: settingsFor(9_000, 4_500),
      trace,
      load: loadPlan("saturate", { durationS: 20, seed: 1, nominal: trace.nominal }),
      durationS: 20,
      seed: 1,
      ...o,
      onStep: (t) => (now = t),
      // Holds both shapers at 90 % of capacity and reads the counters every tick.
      pipeline: (hooks) => {
        hooks.setDlRate(9_000);
        hooks.setUlRate(4_500);
        return {
          name: "counter reader",
          peers: () => ["192.0.2.1"],
          onReply: () => {},
          tick: () => {
            reads.push({ t: now, dl: hooks.counters.dlBytes(), ul: hooks.counters.ulBytes() });
          },
        };
      },
    });
    return reads;
  };
  const exact = await run({}),
    scaled = await run({ upCounterScale: 0.9 }),
    lagged = await run({ counterLagMs: 10 });
  const last = exact.length - 1;
  assertEquals(scaled[last].dl, exact[last].dl);
  assert(Math.abs(scaled[last].ul / exact[last].ul - 0.9) < 1e-9);
  // The lag is at most 10 ms of the rate behind; the reads stay monotonic.
  const lagBytes = 0.01 * 9_000 * 125;
  assert(exact[last].dl - lagged[last].dl <= lagBytes + 1, `${exact[last].dl - lagged[last].dl}`);
  let behind = 0;
  for (let i = 1; i < lagged.length; i++) {
    assert(lagged[i].dl >= lagged[i - 1].dl && lagged[i].ul >= lagged[i - 1].ul);
    if (lagged[i].dl < exact[i].dl) behind++;
  }
  assert(behind > lagged.length / 2, `${behind} of ${lagged.length} reads behind`);
});

Deno.test("counter reads delayed after the tick (v81): each decision's load scatters, anti-correlated from one to the next", async () => {
  const trace = flatTrace(10_000, 5_000);
  const reads: number[] = [];
  const mids: number[] = [];
  await runScenario({
    scenario: "controller",
    settings: settingsFor(9_000, 4_500),
    trace,
    load: loadPlan("saturate", { durationS: 60, seed: 1, nominal: trace.nominal }),
    durationS: 60,
    seed: 1,
    counterRead: { ...TESTBED_COUNTER_READ, seen: true },
    pipeline: (hooks) => {
      hooks.setDlRate(9_000);
      hooks.setUlRate(4_500);
      return {
        name: "counter reader",
        peers: () => ["192.0.2.1"],
        onReply: () => {},
        tick: () => {
          const read = hooks.counters.beginRead?.();
          reads.push(hooks.counters.dlBytes());
          // The loop's estimate of the sampling moment (docs/controllers.md, "v84").
          mids.push(hooks.clock.monotonicS() + (read?.doneS ?? NaN) / 2);
        },
      };
    },
  });
  // Per-decision load against the rate, from 5 s on (the shaper full).
  const tickS = settingsFor(9_000, 4_500).min_change_interval;
  const loads: number[] = [];
  for (let i = Math.round(5 / tickS); i < reads.length; i++) {
    loads.push((reads[i] - reads[i - 1]) / (9_000 * 125 * tickS));
  }
  const m = loads.reduce((a, b) => a + b, 0) / loads.length;
  const dev = loads.map((x) => x - m);
  const sd = Math.sqrt(dev.reduce((a, b) => a + b * b, 0) / dev.length);
  const acf1 = lag1Autocorrelation(loads);
  // A late read lifts one decision and lowers the next: mean kept, sd of about 4 ms over the
  // decision, lag-1 ≈ −0.5.
  assert(Math.abs(m - 1) < 0.01, `mean load ${m}`);
  assert(sd > 0.002 / tickS && sd < 0.006 / tickS, `sd ${sd}`);
  assert(acf1 < -0.3, `lag-1 autocorrelation ${acf1}`);
  // Timed at the middle of each read (the sample and the answer's return drawn alike), the
  // error is half the difference of two delays: its sd about √2 smaller.
  const timed: number[] = [];
  for (let i = Math.round(5 / tickS); i < reads.length; i++) {
    timed.push((reads[i] - reads[i - 1]) / (9_000 * 125 * (mids[i] - mids[i - 1])));
  }
  const tm = timed.reduce((a, b) => a + b, 0) / timed.length;
  const tsd = Math.sqrt(timed.reduce((a, b) => a + (b - tm) ** 2, 0) / timed.length);
  assert(tsd < 0.85 * sd && tsd > 0.5 * sd, `sd ${tsd} timed by the read, ${sd} by the tick`);
});

Deno.test("counter reads with slow spells (read_bursts.ts): a read's length follows the one before it", async () => {
  const trace = flatTrace(10_000, 5_000);
  const lag1OfReads = async (bursts?: ReadBursts) => {
    const spans: number[] = [];
    await runScenario({
      scenario: "controller",
      settings: settingsFor(9_000, 4_500),
      trace,
      load: loadPlan("saturate", { durationS: 60, seed: 1, nominal: trace.nominal }),
      durationS: 60,
      seed: 1,
      counterRead: { fixedMs: 20, meanMs: 8, tailShare: 0, tailMeanMs: 0, seen: true, bursts },
      pipeline: (hooks) => ({
        name: "counter reader",
        peers: () => ["192.0.2.1"],
        onReply: () => {},
        tick: () => {
          spans.push(hooks.counters.beginRead?.().doneS ?? NaN);
        },
      }),
    });
    return lag1Autocorrelation(spans);
  };
  const independent = await lag1OfReads();
  const bursty = await lag1OfReads({ slowShare: 0.2, runLegs: 20, factor: 4 });
  // Each read is two legs of a slow run of 20 on average: lag-1 of a read about 0.9 × the
  // variance between the states' share (read_bursts_test.ts), 0.35 over two legs.
  assert(Math.abs(independent) < 0.15, `independent lag-1 ${independent}`);
  assert(bursty > 0.25, `bursty lag-1 ${bursty}`);
});
