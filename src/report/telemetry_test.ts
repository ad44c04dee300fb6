import { assert, assertEquals } from "../util/assert.ts";
import { createOwdState } from "../baseline/owd_state.ts";
import type { TickEvent } from "../control/ports.ts";
import { EARLIER_REFLECTORS_S, STALE_AFTER_S, Telemetry } from "./telemetry.ts";
import { renderPrometheus } from "./prometheus.ts";
import { handleObservabilityRequest } from "./http_server.ts";

function tick(over: Partial<TickEvent> = {}): TickEvent {
  return {
    wallMs: 1_700_000_000_000,
    monotonicS: 100,
    durationS: 0.003,
    path: "normal",
    dlRate: 50_000,
    ulRate: 10_000,
    dlThresholdMs: 15,
    ulThresholdMs: 15,
    fresh: 5,
    readings: {
      rxLoad: 0.9,
      txLoad: 0.5,
      dlDelayMs: 4,
      ulDelayMs: 2,
      dlThroughput: 45_000,
      ulThroughput: 5_000,
    },
    counterFailure: false,
    shaperFailures: { dl: false, ul: false },
    controllerFailure: false,
    adjusterFailures: 0,
    ...over,
  };
}

/** The value of one sample line, e.g. `sqm_load_ratio{direction="download"}`. */
function sample(text: string, key: string): number {
  const line = text.split("\n").find((l) => l.startsWith(key + " "));
  if (line === undefined) throw new Error(`no sample ${key} in\n${text}`);
  return Number(line.slice(key.length + 1));
}

Deno.test("metrics: every family has HELP and TYPE, values follow the ticks", () => {
  const owd = createOwdState(["9.9.9.9", "1.1.1.1"]);
  let now = 100;
  const t = new Telemetry({
    owd,
    monotonicS: () => now,
    tickIntervalS: 0.5,
    pingerStarts: () => 3,
    plugins: () => ({ errors: 2, disabled: ["flaky"] }),
    memory: () => ({ rss: 42e6, heapUsed: 9e6, heapTotal: 12e6, external: 1e6 }),
  });
  owd.baseline.set("9.9.9.9", { up_ewma: 10, down_ewma: 12, last_receive_time_s: 100 });
  owd.recent.set("9.9.9.9", { up_ewma: 11, down_ewma: 20, last_receive_time_s: 100 });
  owd.baseline.set("1.1.1.1", { up_ewma: 10, down_ewma: 12, last_receive_time_s: 90 });
  t.onTick(tick());
  t.onTick(tick({ path: "hold", readings: undefined, counterFailure: true, durationS: 0.2 }));
  t.onTick(
    tick({ shaperFailures: { dl: true, ul: false }, controllerFailure: true, adjusterFailures: 1 }),
  );
  owd.peers = ["9.9.9.9", "8.8.8.8"]; // a reselection
  // 10 s later: 9.9.9.9 answered 15 of the 20 probes of the window
  now = 111;
  for (let i = 0; i < 15; i++) t.onReply({ reflector: "9.9.9.9", receiveTimeS: 101.5 + i * 0.5 });
  now = 112;
  const text = renderPrometheus(t.snapshot());
  // HELP and TYPE before each family's samples, once.
  const names = new Set(
    text.split("\n").filter((l) => l !== "" && !l.startsWith("#")).map((l) =>
      l.split(/[{ ]/)[0].replace(/_(bucket|sum|count)$/, "")
    ),
  );
  for (const n of names) {
    assert(text.includes(`# HELP ${n} `), `HELP of ${n}`);
    assertEquals(text.split(`# TYPE ${n} `).length, 2, `one TYPE of ${n}`);
  }
  assertEquals(sample(text, 'sqm_shaper_rate_bits_per_second{direction="download"}'), 50_000_000);
  assertEquals(sample(text, 'sqm_throughput_bits_per_second{direction="upload"}'), 5_000_000);
  assertEquals(sample(text, 'sqm_load_ratio{direction="download"}'), 0.9);
  assertEquals(sample(text, 'sqm_delay_seconds{direction="download"}'), 0.004);
  assertEquals(sample(text, 'sqm_controller_decisions_total{path="normal"}'), 2);
  assertEquals(sample(text, 'sqm_controller_decisions_total{path="hold"}'), 1);
  assertEquals(sample(text, "sqm_counter_failures_total"), 1);
  assertEquals(sample(text, 'sqm_tc_failures_total{direction="download"}'), 1);
  assertEquals(sample(text, "sqm_controller_failures_total"), 1);
  assertEquals(sample(text, "sqm_lua_errors_total"), 3);
  assertEquals(sample(text, "sqm_plugins_disabled"), 1);
  assertEquals(sample(text, "sqm_pinger_starts_total"), 3);
  assertEquals(sample(text, "sqm_reflector_reselections_total"), 1);
  assertEquals(
    sample(text, 'sqm_reflector_recent_owd_seconds{reflector="9.9.9.9",direction="download"}'),
    0.02,
  );
  assertEquals(sample(text, 'sqm_reflector_active{reflector="1.1.1.1"}'), 0);
  assertEquals(sample(text, 'sqm_reflector_replies_total{reflector="9.9.9.9"}'), 15);
  assertEquals(sample(text, 'sqm_tick_duration_seconds_bucket{le="0.005"}'), 2);
  assertEquals(sample(text, 'sqm_tick_duration_seconds_bucket{le="0.1"}'), 2);
  assertEquals(sample(text, 'sqm_tick_duration_seconds_bucket{le="0.25"}'), 3);
  assertEquals(sample(text, 'sqm_tick_duration_seconds_bucket{le="+Inf"}'), 3);
  assertEquals(sample(text, "process_resident_memory_bytes"), 42e6);
  assertEquals(sample(text, "sqm_js_heap_used_bytes"), 9e6);
  assertEquals(sample(text, "sqm_js_heap_total_bytes"), 12e6);
  assertEquals(sample(text, "sqm_js_external_memory_bytes"), 1e6);
  // 9.9.9.9 is a peer since 100 s: 13 of the 20 probes of (102, 112] were answered.
  assertEquals(sample(text, 'sqm_reflector_loss_ratio{reflector="9.9.9.9"}'), 0.35);
  // 8.8.8.8 came with the reselection: no loss figure before it was pinged for a whole window.
  assert(!text.includes('sqm_reflector_loss_ratio{reflector="8.8.8.8"}'), "no loss yet");
  now = 122.2;
  for (let i = 0; i < 20; i++) t.onReply({ reflector: "8.8.8.8", receiveTimeS: 112.5 + i * 0.5 });
  const later = renderPrometheus(t.snapshot());
  assertEquals(sample(later, 'sqm_reflector_loss_ratio{reflector="8.8.8.8"}'), 0);
});

Deno.test("an outage longer than STALE_AFTER_S shows the measured figures as unknown, not frozen", () => {
  // Until the twenty-fifth session a no-deltas tick kept the last normal tick's figures for as long
  // as the outage lasted: an hour of a link down read as "delay 0 ms, 2.2 Mbit/s" on the live
  // page, in /metrics and in Home Assistant.
  const t = new Telemetry();
  t.onTick(tick({ monotonicS: 100 }));
  const outage = (s: number) =>
    t.onTick(tick({ monotonicS: s, path: "no-deltas", readings: undefined, fresh: 0 }));
  outage(100.5);
  outage(100 + STALE_AFTER_S);
  assertEquals([t.now.dl.delayMs, t.now.ul.throughputKbit], [4, 5_000], "a blip keeps them");
  outage(100 + STALE_AFTER_S + 0.5);
  assertEquals([t.now.dl.delayMs, t.now.dl.load, t.now.ul.throughputKbit], [NaN, NaN, NaN]);
  assertEquals([t.now.fresh, t.now.dl.rateKbit], [0, 50_000]);
  const text = renderPrometheus(t.snapshot());
  assert(Number.isNaN(sample(text, 'sqm_delay_seconds{direction="download"}')), text);
  t.onTick(tick({ monotonicS: 200 }));
  assertEquals(t.now.dl.delayMs, 4, "measured again");
});

Deno.test("history keeps the last N ticks in order; /api/live returns those after `since`", async () => {
  const t = new Telemetry({}, { historyTicks: 4 });
  for (let i = 0; i < 6; i++) {
    t.onTick(
      tick({
        wallMs: 1000 * (i + 1),
        monotonicS: i + 1,
        dlRate: 1000 + i,
        readings: i === 5 ? undefined : tick().readings,
      }),
    );
  }
  const h = t.history();
  assertEquals(h.t, [3, 4, 5, 6]);
  assertEquals(h.dlRate, [1002, 1003, 1004, 1005]);
  assertEquals(h.dlDelay, [4, 4, 4, null]);
  const res = handleObservabilityRequest(new Request("http://x/api/live?since=4"), t);
  const body = await res.json();
  assertEquals(body.history.t, [5, 6]);
  assertEquals(body.now.dl.rateKbit, 1005);
  assertEquals(body.now.dl.delayMs, 4, "the last normal tick's delay stays shown on a hold");
  t.onTick(tick({ wallMs: 7000, monotonicS: 7, path: "idle", readings: undefined }));
  assertEquals(t.now.dl.delayMs, NaN, "idle mode measures nothing: unknown, not stale");
  assertEquals(t.now.dl.rateKbit, 50_000);
  const page = handleObservabilityRequest(new Request("http://x/"), t);
  assert((await page.text()).includes('<script src="/uplot.js">'));
  const js = await handleObservabilityRequest(new Request("http://x/uplot.js"), t).text();
  assert(js.includes("uPlot"), "uPlot is served from the program");
  assertEquals(handleObservabilityRequest(new Request("http://x/nope"), t).status, 404);
  await handleObservabilityRequest(new Request("http://x/metrics"), t).body?.cancel();
});

Deno.test("metrics list the peers and the reflectors heard in the last 15 minutes, not the whole pool", () => {
  // A day of reselections: 300 reflectors of the pool were probed, the last one now, each 200 s
  // before the next; the peers are the first five (however old: peers are always listed).
  const pool = Array.from({ length: 300 }, (_, i) => `10.0.${i >> 8}.${i & 255}`);
  const owd = createOwdState(pool.slice(0, 5));
  const now = 86_400;
  pool.forEach((ip, i) => {
    const e = { up_ewma: 10, down_ewma: 12, last_receive_time_s: now - (299 - i) * 200 };
    owd.baseline.set(ip, { ...e });
    owd.recent.set(ip, { ...e });
  });
  const t = new Telemetry({ owd, monotonicS: () => now, tickIntervalS: 0.5 });
  const listed = t.snapshot().reflectors;
  assertEquals(listed.filter((r) => r.active).map((r) => r.ip), pool.slice(0, 5));
  // Heard at most 900 s ago: 0, 200, 400, 600 and 800 s ago.
  assertEquals(listed.filter((r) => !r.active).map((r) => r.ip), pool.slice(295));
  assertEquals(EARLIER_REFLECTORS_S, 900);
  const text = renderPrometheus(t.snapshot());
  assert(!text.includes(`reflector="${pool[294]}"`), "one last heard 1000 s ago is not listed");
  assertEquals(sample(text, `sqm_reflector_active{reflector="${pool[295]}"}`), 0);
});

Deno.test("history across wall-clock steps (NTP on a router without RTC): ascending, spaced by the time that passed, on the clock of the last tick; /api/live counts the steps", async () => {
  const t = new Telemetry({}, { historyTicks: 100 });
  const year = 365 * 86400;
  const boot = 1_600_000_000; // the wall clock a router without RTC boots with
  let mono = 50;
  let wallS = boot;
  const step = () => {
    t.onTick(tick({ wallMs: wallS * 1000, monotonicS: mono }));
    mono += 0.5;
    wallS += 0.5;
  };
  for (let i = 0; i < 4; i++) step();
  const before = await (await handleObservabilityRequest(new Request("http://x/api/live"), t))
    .json();
  assertEquals(before.now.clockSteps, 0);
  const since = before.history.t.at(-1);
  wallS += year; // NTP steps forward by a year
  for (let i = 0; i < 4; i++) step();
  wallS -= 30 * 86400; // and back by a month
  for (let i = 0; i < 4; i++) step();
  const h = t.history();
  assertEquals(h.t.length, 12);
  for (let i = 1; i < h.t.length; i++) assertEquals(h.t[i] - h.t[i - 1], 0.5);
  assertEquals(h.t.at(-1), wallS - 0.5, "the newest tick at the wall time it was made");
  // A page that polls with the old clock's `since` sees the step count change and reloads.
  const after = await (
    await handleObservabilityRequest(new Request(`http://x/api/live?since=${since}`), t)
  ).json();
  assertEquals(after.now.clockSteps, 2);
  assertEquals(
    (await (await handleObservabilityRequest(new Request("http://x/api/live?since=0"), t)).json())
      .history.t,
    h.t,
  );
  // Slow drift (NTP slewing, 500 ppm) is no step.
  for (let i = 0; i < 20; i++) {
    wallS += 0.0005;
    step();
  }
  assertEquals(t.now.clockSteps, 2);
});

Deno.test("the loss window's reply times are kept for the peers only: a day of reselections through the pool keeps five, with the replies counted and the loss still shown", () => {
  // Each reflector of a 300-strong pool is followed once (five at a time, 40 replies each);
  // without the eviction all 300 keep their times (up to 200 each, about 2 KB a reflector).
  const pool = Array.from({ length: 300 }, (_, i) => `10.0.${i >> 8}.${i & 255}`);
  const owd = createOwdState(pool.slice(0, 5));
  let now = 100;
  const t = new Telemetry({ owd, monotonicS: () => now, tickIntervalS: 0.5 });
  for (let k = 0; k < pool.length; k += 5) {
    owd.peers = pool.slice(k, k + 5);
    t.onTick(tick({ monotonicS: now }));
    for (let r = 0; r < 40; r++) {
      now += 0.5;
      for (const ip of owd.peers) t.onReply({ reflector: ip, receiveTimeS: now });
    }
  }
  t.onTick(tick({ monotonicS: now }));
  assertEquals(t.recentKept, 5);
  const peers = t.snapshot().reflectors.filter((r) => r.active);
  assertEquals(peers.map((r) => r.ip), pool.slice(295));
  assertEquals(peers.map((r) => r.loss), [0, 0, 0, 0, 0]);
  const text = renderPrometheus(t.snapshot());
  assertEquals(sample(text, `sqm_reflector_replies_total{reflector="${pool[299]}"}`), 40);
});
