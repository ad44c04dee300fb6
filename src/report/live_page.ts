/**
 * The live page served at `/` next to `/metrics`: current rate, throughput, load and delay per
 * direction, and uPlot charts of the last ten minutes. The page loads uPlot from this server
 * (`/uplot.js`, `/uplot.css`, embedded in the program) and polls `/api/live?since=T` once a
 * second; nothing is fetched from elsewhere. Test hooks: `#points` holds the number of ticks
 * drawn, each value has an id (`dl-rate`, `ul-delay`, …).
 */

/** The page's HTML (static; the data comes from `/api/live`). */
export function livePageHtml(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sqm-autorate live</title>
<link rel="stylesheet" href="/uplot.css">
<style>
  body { font-family: Helvetica, Arial, sans-serif; margin: 16px; color: #222; background: #fff; }
  h1 { font-size: 20px; margin: 0 0 4px; }
  #status { color: #666; font-size: 13px; margin-bottom: 12px; }
  .cards { display: flex; gap: 16px; flex-wrap: wrap; margin-bottom: 12px; }
  .card { border: 1px solid #d0d4da; border-radius: 6px; padding: 10px 14px; min-width: 300px; }
  .card h2 { font-size: 15px; margin: 0 0 6px; }
  .card table { border-collapse: collapse; font-size: 14px; }
  .card td { padding: 2px 12px 2px 0; }
  .card td.v { font-weight: bold; text-align: right; font-variant-numeric: tabular-nums; }
  .chart { margin-bottom: 8px; }
</style>
</head>
<body>
<h1>sqm-autorate</h1>
<div id="status">connecting…</div>
<div class="cards">
${card("dl", "Download")}
${card("ul", "Upload")}
</div>
<div class="chart" id="rates"></div>
<div class="chart" id="delays"></div>
<div id="footer" style="font-size:12px;color:#666">Last 10 minutes, <span id="points">0</span> ticks drawn.
<a href="/metrics">/metrics</a></div>
<script src="/uplot.js"></script>
<script>
${PAGE_SCRIPT}
</script>
</body>
</html>
`;
}

function card(id: string, title: string): string {
  return `<div class="card"><h2>${title}</h2><table>
<tr><td>shaper rate</td><td class="v" id="${id}-rate">–</td></tr>
<tr><td>throughput</td><td class="v" id="${id}-throughput">–</td></tr>
<tr><td>load</td><td class="v" id="${id}-load">–</td></tr>
<tr><td>delay</td><td class="v" id="${id}-delay">–</td></tr>
</table></div>`;
}

/** The browser side: keeps ten minutes of columns, appends what `/api/live` returns. */
const PAGE_SCRIPT = `
"use strict";
const WINDOW_S = 600;
const cols = { t: [], dlRate: [], ulRate: [], dlThroughput: [], ulThroughput: [], dlDelay: [], ulDelay: [] };
let since = 0;
let clockSteps = null;
const mbit = (k) => (k === null ? null : k / 1000);
const times = (v, f) => (v === null || v === undefined ? null : v * f);
const fmt = (v, unit, digits) => (v === null || v === undefined || Number.isNaN(v) ? "–" : v.toFixed(digits) + " " + unit);
const width = () => Math.max(400, Math.min(1200, document.body.clientWidth - 8));
const rateChart = new uPlot({
  width: width(), height: 260, title: "rates (Mbit/s)",
  scales: { x: { time: true } },
  series: [
    {},
    { label: "download rate", stroke: "#1f5fbf", width: 2 },
    { label: "download throughput", stroke: "#2a9d4b", width: 1 },
    { label: "upload rate", stroke: "#7b3fa0", width: 2 },
    { label: "upload throughput", stroke: "#e08a00", width: 1 },
  ],
  axes: [{}, { label: "Mbit/s" }],
}, [[], [], [], [], []], document.getElementById("rates"));
const delayChart = new uPlot({
  width: width(), height: 200, title: "delay statistic (ms)",
  scales: { x: { time: true } },
  series: [
    {},
    { label: "download delay", stroke: "#d62728", width: 1 },
    { label: "upload delay", stroke: "#8c564b", width: 1 },
  ],
  axes: [{}, { label: "ms" }],
}, [[], [], []], document.getElementById("delays"));

function show(now) {
  for (const d of ["dl", "ul"]) {
    const n = now[d];
    document.getElementById(d + "-rate").textContent = fmt(times(n.rateKbit, 0.001), "Mbit/s", 2);
    document.getElementById(d + "-throughput").textContent = fmt(times(n.throughputKbit, 0.001), "Mbit/s", 2);
    document.getElementById(d + "-load").textContent = fmt(times(n.load, 100), "%", 0);
    document.getElementById(d + "-delay").textContent =
      fmt(n.delayMs, "ms", 1) + " (threshold " + fmt(n.thresholdMs, "ms", 0) + ")";
  }
}

async function poll() {
  try {
    const r = await fetch("/api/live?since=" + since, { cache: "no-store" });
    const live = await r.json();
    const h = live.history;
    if (clockSteps !== null && live.now.clockSteps !== clockSteps) {
      // The daemon's wall clock was stepped: every time moved with it; take the history afresh.
      for (const k of Object.keys(cols)) cols[k].length = 0;
      since = 0;
      for (const k of Object.keys(h)) h[k].length = 0;
    }
    clockSteps = live.now.clockSteps;
    for (const k of Object.keys(cols)) cols[k].push(...h[k]);
    if (h.t.length > 0) since = h.t[h.t.length - 1];
    const cut = cols.t.findIndex((t) => t >= since - WINDOW_S);
    if (cut > 0) for (const k of Object.keys(cols)) cols[k].splice(0, cut);
    rateChart.setData([cols.t, cols.dlRate.map(mbit), cols.dlThroughput.map(mbit), cols.ulRate.map(mbit), cols.ulThroughput.map(mbit)]);
    delayChart.setData([cols.t, cols.dlDelay, cols.ulDelay]);
    document.getElementById("points").textContent = String(cols.t.length);
    show(live.now);
    document.getElementById("status").textContent = live.now.ticks === 0
      ? "waiting for the first control tick"
      : "tick " + live.now.ticks + " at " + new Date(live.now.lastTickWallMs).toLocaleTimeString();
  } catch (e) {
    document.getElementById("status").textContent = "no answer from the daemon: " + e;
  }
}
poll();
setInterval(poll, 1000);
window.addEventListener("resize", () => {
  rateChart.setSize({ width: width(), height: 260 });
  delayChart.setSize({ width: width(), height: 200 });
});
`;
