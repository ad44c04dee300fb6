/**
 * `/metrics` scrape cost: a real listener (Deno.serve on 127.0.0.1, an ephemeral port) over a
 * telemetry collector with 10 reflectors and a full 10-minute history, scraped by fetch.
 * Reports the median wall time of one scrape (request, rendering, response) in ms; target ≤ 2 ms.
 * Run: deno run -P=dev bench/metrics.ts
 */
import { createOwdState } from "../src/baseline/owd_state.ts";
import { Telemetry } from "../src/report/telemetry.ts";
import { startObservabilityServer } from "../src/report/http_server.ts";
import { stageLogger } from "../src/log/mod.ts";
import { median } from "../src/util/stats.ts";

const reflectors = Array.from({ length: 10 }, (_, i) => `192.0.2.${i + 1}`);
const owd = createOwdState(reflectors);
let now = 1000;
for (const ip of reflectors) {
  owd.baseline.set(ip, { up_ewma: 10, down_ewma: 12, last_receive_time_s: now });
  owd.recent.set(ip, { up_ewma: 11, down_ewma: 15, last_receive_time_s: now });
}
const telemetry = new Telemetry({
  owd,
  monotonicS: () => now,
  tickIntervalS: 0.5,
  pingerStarts: () => 1,
  plugins: () => ({ errors: 0, disabled: [] }),
  memory: () => Deno.memoryUsage(),
});
for (let i = 0; i < 1200; i++) {
  now += 0.5;
  for (const ip of reflectors) telemetry.onReply({ reflector: ip, receiveTimeS: now });
  telemetry.onTick({
    wallMs: 1_700_000_000_000 + i * 500,
    monotonicS: now,
    durationS: 0.002,
    path: "normal",
    dlRate: 50_000,
    ulRate: 10_000,
    dlThresholdMs: 15,
    ulThresholdMs: 15,
    fresh: 10,
    readings: {
      rxLoad: 0.8,
      txLoad: 0.3,
      dlDelayMs: 3,
      ulDelayMs: 1,
      dlThroughput: 40_000,
      ulThroughput: 3_000,
    },
    counterFailure: false,
    shaperFailures: { dl: false, ul: false },
    controllerFailure: false,
    adjusterFailures: 0,
  });
}

const server = await startObservabilityServer({ hostname: "127.0.0.1", port: 0 }, {
  telemetry,
  logger: stageLogger("bench"),
});
const url = `http://127.0.0.1:${server.port}/metrics`;
const times: number[] = [];
let bytes = 0;
for (let i = 0; i < 600; i++) {
  const t0 = performance.now();
  const res = await fetch(url);
  const text = await res.text();
  const dt = performance.now() - t0;
  if (i >= 100) times.push(dt); // the first ones warm up the JIT and the connection
  bytes = text.length;
}
await server.shutdown();
console.log(`scrape: ${bytes} bytes of exposition text, ${times.length} scrapes measured`);
console.log(`metric metrics_scrape_median ${median(times).toFixed(3)} ms`);
