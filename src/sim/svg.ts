/**
 * A self-contained SVG plot of simulation runs: per run and direction, capacity / shaper rate /
 * throughput over time, and the added delay over time with the threshold.
 */
import type { DirectionSeries } from "./metrics.ts";
import type { RunResult } from "./engine.ts";
import {
  area,
  axes,
  bucket,
  CHART_COLORS as COLORS,
  esc,
  legend as legendRow,
  line,
  niceMax,
  type PanelBox,
  svgOpen,
  text,
  thresholdLine,
} from "../report/svg_chart.ts";

const WIDTH = 1200;
const MARGIN_LEFT = 64;
const MARGIN_RIGHT = 16;
const COL_GAP = 72;
const RATE_H = 150;
const DELAY_H = 90;
const PANEL_GAP = 26;
const ROW_HEAD = 34;
const ROW_GAP = 30;
const TOP = 92;
/** Renders the runs (one row each, download left, upload right) as an SVG document. */
export function renderSvg(runs: readonly RunResult[], options: { title?: string } = {}): string {
  const colW = (WIDTH - MARGIN_LEFT - MARGIN_RIGHT - COL_GAP) / 2;
  const rowH = ROW_HEAD + RATE_H + PANEL_GAP + DELAY_H + ROW_GAP + 14;
  const height = TOP + runs.length * rowH + 10;
  const out: string[] = [];
  out.push(svgOpen(WIDTH, height));
  const first = runs[0];
  const title = options.title ??
    (first
      ? `sqm-autorate simulation: trace ${first.trace}, load ${first.load}, ` +
        `${first.durationS} s, seed ${first.seed}`
      : "sqm-autorate simulation");
  out.push(text(WIDTH / 2, 24, esc(title), { size: 17, anchor: "middle", weight: "bold" }));
  out.push(legend(44));

  runs.forEach((run, r) => {
    const y0 = TOP + r * rowH;
    const head = `${run.label}: p95 added delay ${fmt(run.p95DelayMs, "ms")}, ` +
      `utilisation ${fmt(run.utilisationPct, "%")}, worst recovery ${fmt(run.maxRecoveryS, "s")}` +
      (run.unrecoveredDrops > 0 ? ` (${run.unrecoveredDrops} drops never recovered)` : "");
    out.push(text(MARGIN_LEFT, y0 + 14, esc(head), { size: 14, weight: "bold" }));
    (["down", "up"] as const).forEach((dir, c) => {
      const x0 = MARGIN_LEFT + c * (colW + COL_GAP);
      const s = run.series[dir];
      const summary = run[dir];
      const label = dir === "down" ? "Download" : "Upload";
      out.push(ratePanel(s, run.series.stepS, { x0, y0: y0 + ROW_HEAD, w: colW, label }));
      out.push(
        delayPanel(s, run.series.stepS, {
          x0,
          y0: y0 + ROW_HEAD + RATE_H + PANEL_GAP,
          w: colW,
          label,
          thresholdMs: summary.thresholdMs,
        }),
      );
    });
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

function ratePanel(s: DirectionSeries, stepS: number, box: PanelBox): string {
  const n = s.capacity.length;
  let max = 0;
  for (let i = 0; i < n; i++) {
    max = Math.max(
      max,
      s.capacity[i],
      s.throughput[i],
      Number.isNaN(s.shaper[i]) ? 0 : s.shaper[i],
    );
  }
  const yMax = niceMax(max / 1000);
  const xMax = n * stepS;
  const sx = (t: number) => box.x0 + (t / xMax) * box.w;
  const sy = (mbit: number) => box.y0 + RATE_H - (Math.min(mbit, yMax) / yMax) * RATE_H;
  const parts: string[] = [];
  parts.push(axes(box, { h: RATE_H, xMax, yMax, yLabel: `${box.label} rate (Mbit/s)` }));
  const x = (i: number) => sx(i * stepS);
  const y = (kbit: number) => sy(kbit / 1000);
  parts.push(
    area(bucket(s.capacity, "mean"), x, y, { fromX: 0, toX: n, color: COLORS.capacity }),
  );
  parts.push(line(bucket(s.throughput, "mean"), x, y, { color: COLORS.throughput, width: 1.2 }));
  parts.push(line(bucket(s.shaper, "mean"), x, y, { color: COLORS.shaper, width: 1.8 }));
  return parts.join("\n");
}

function delayPanel(
  s: DirectionSeries,
  stepS: number,
  box: PanelBox & { thresholdMs: number },
): string {
  const n = s.delay.length;
  let max = 0;
  for (let i = 0; i < n; i++) max = Math.max(max, s.delay[i]);
  const yMax = niceMax(Math.max(max, box.thresholdMs * 2));
  const xMax = n * stepS;
  const sx = (t: number) => box.x0 + (t / xMax) * box.w;
  const sy = (ms: number) => box.y0 + DELAY_H - (Math.min(ms, yMax) / yMax) * DELAY_H;
  const parts: string[] = [];
  parts.push(
    axes(box, { h: DELAY_H, xMax, yMax, yLabel: "added delay (ms)", xLabel: "time (s)" }),
  );
  parts.push(thresholdLine(box, sy(box.thresholdMs)));
  parts.push(
    line(bucket(s.delay, "max"), (i) => sx(i * stepS), sy, { color: COLORS.delay, width: 1.2 }),
  );
  return parts.join("\n");
}

function legend(y: number): string {
  return legendRow(
    [
      { label: "capacity (ISP bottleneck)", color: COLORS.capacity, mark: "area" },
      { label: "shaper rate", color: COLORS.shaper, mark: "line" },
      { label: "delivered throughput", color: COLORS.throughput, mark: "line" },
      { label: "added delay (max per 0.1 s)", color: COLORS.delay, mark: "line" },
      { label: "delay threshold", color: COLORS.threshold, mark: "dashed" },
    ],
    { x: MARGIN_LEFT, y },
    "Added delay = queueing delay above the base one-way delay seen by a sparse packet " +
      "(ping, game, call) while the direction is loaded.",
  );
}

function fmt(v: number | null, unit: string): string {
  return v === null ? "n/a" : `${v}${unit === "%" ? "" : " "}${unit}`;
}
