import { assert, assertEquals } from "../util/assert.ts";
import { renderStatsPlot } from "./stats_plot.ts";
import type { StatsRow } from "../control/ports.ts";
import { MAX_POINTS } from "./svg_chart.ts";

const thresholds = { dlDelayMs: 15, ulDelayMs: 15, highLoad: 0.8 };

function rows(
  n: number,
  opts: { startS?: number; stepS?: number; gapAt?: number } = {},
): StatsRow[] {
  const out: StatsRow[] = [];
  let t = opts.startS ?? 1_700_000_000;
  for (let i = 0; i < n; i++) {
    if (i === opts.gapAt) t += 3600;
    out.push({
      times: Math.floor(t),
      timens: Math.round((t % 1) * 1e9),
      rxload: 0.5 + 0.4 * Math.sin(i / 50),
      txload: 0.3,
      deltadelaydown: i % 100 === 0 ? 40 : 2,
      deltadelayup: NaN,
      dlrate: 50_000 + (i % 1000),
      uprate: 10_000,
    });
    t += opts.stepS ?? 0.5;
  }
  return out;
}

/** The number of points of each path of a given stroke colour. */
function pathPoints(svg: string, color: string): number[] {
  return [...svg.matchAll(new RegExp(`<path d="([^"]*)" fill="none" stroke="${color}"`, "g"))]
    .map((m) => m[1].split(/[ML]/).filter((p) => p.trim() !== "").length);
}

Deno.test("plot: hours of ticks are downsampled to at most MAX_POINTS per line", () => {
  const svg = renderStatsPlot(rows(6 * 3600 * 2), { thresholds, source: "s.csv" });
  const shaper = pathPoints(svg, "#1f5fbf");
  assertEquals(shaper.length, 2); // download and upload
  for (const n of shaper) assert(n <= MAX_POINTS && n > MAX_POINTS / 2, `${n} points`);
  assert(svg.includes("43200 ticks"), "title counts every tick");
  // 11-14 22:13:20 to 11-15 04:13:20 UTC: ticks on the full hours with the date (the span
  // crosses midnight), in every panel (3 per direction)
  for (const h of ["11-14 23:00", "11-15 00:00", "11-15 04:00"]) {
    assertEquals(svg.split(`>${h}</text>`).length - 1, 6, h);
  }
  assert(!svg.includes(">11-14 22:00</text>") && !svg.includes(">11-15 05:00</text>"));
});

Deno.test("plot: a stretch without ticks is a gap in the lines, not a straight segment", () => {
  const svg = renderStatsPlot(rows(2000, { gapAt: 1000 }), { thresholds, source: "s.csv" });
  const d = svg.match(/<path d="([^"]*)" fill="none" stroke="#1f5fbf"/)![1];
  assertEquals(d.split("M").length - 1, 2, "two pen-down moves: before and after the gap");
});

Deno.test("plot: thresholds, summary and the speed-history histogram are drawn", () => {
  const svg = renderStatsPlot(rows(400), {
    thresholds: { dlDelayMs: 30, ulDelayMs: 15, highLoad: 0.9 },
    source: "s.csv",
    speedHistory: [{ timeS: 300, up: [9000, 9500], down: [40_000, 45_000, 48_000] }],
  });
  // 4 of 400 download delays (40 ms) lie above 30 ms: 1 %; upload delays are all nan
  assert(
    svg.includes("Download: median rate 50.2 Mbit/s, p95 delay 2 ms, above threshold 1 %"),
    svg,
  );
  assert(svg.includes("Upload: median rate 10 Mbit/s, p95 delay n/a"), "upload summary");
  assertEquals((svg.match(/stroke-dasharray="6 4"/g) ?? []).length, 5); // legend + 2 × (load, delay)
  assert(svg.includes("last speed-history dump"));
  assertEquals(
    (svg.match(/<rect x="[^"]*" y="[^"]*" width="[^"]*" height="[^"]*" fill="#1f5fbf"/g) ?? [])
      .length,
    5, // 2 upload + 3 download bins
  );
});
