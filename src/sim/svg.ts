/**
 * A self-contained SVG plot of simulation runs: per run and direction, capacity / shaper rate /
 * throughput over time, and the added delay over time with the threshold.
 */
import type { DirectionSeries } from "./metrics.ts";
import type { RunResult } from "./engine.ts";

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
const MAX_POINTS = 900;

const COLORS = {
  capacity: "#c8ccd2",
  shaper: "#1f5fbf",
  throughput: "#2a9d4b",
  delay: "#d62728",
  threshold: "#e08a00",
  grid: "#e6e8eb",
  axis: "#555",
  text: "#222",
};

/** Renders the runs (one row each, download left, upload right) as an SVG document. */
export function renderSvg(runs: readonly RunResult[], options: { title?: string } = {}): string {
  const colW = (WIDTH - MARGIN_LEFT - MARGIN_RIGHT - COL_GAP) / 2;
  const rowH = ROW_HEAD + RATE_H + PANEL_GAP + DELAY_H + ROW_GAP + 14;
  const height = TOP + runs.length * rowH + 10;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" ` +
      `viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif" ` +
      `font-size="12" fill="${COLORS.text}">`,
    `<rect width="${WIDTH}" height="${height}" fill="white"/>`,
  );
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

interface PanelBox {
  x0: number;
  y0: number;
  w: number;
  label: string;
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
  parts.push(axes(box, RATE_H, xMax, yMax, `${box.label} rate (Mbit/s)`, false));
  const cap = bucket(s.capacity, "mean");
  let area = `M${sx(0).toFixed(1)},${sy(0).toFixed(1)}`;
  for (const [i, v] of cap) area += ` L${sx(i * stepS).toFixed(1)},${sy(v / 1000).toFixed(1)}`;
  area += ` L${sx(xMax).toFixed(1)},${sy(0).toFixed(1)} Z`;
  parts.push(`<path d="${area}" fill="${COLORS.capacity}" stroke="none"/>`);
  parts.push(
    line(
      bucket(s.throughput, "mean"),
      (i) => sx(i * stepS),
      (v) => sy(v / 1000),
      COLORS.throughput,
      1.2,
    ),
  );
  parts.push(
    line(bucket(s.shaper, "mean"), (i) => sx(i * stepS), (v) => sy(v / 1000), COLORS.shaper, 1.8),
  );
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
  parts.push(axes(box, DELAY_H, xMax, yMax, `added delay (ms)`, true));
  parts.push(
    `<line x1="${box.x0}" x2="${box.x0 + box.w}" y1="${sy(box.thresholdMs).toFixed(1)}" ` +
      `y2="${sy(box.thresholdMs).toFixed(1)}" stroke="${COLORS.threshold}" stroke-width="1.2" ` +
      `stroke-dasharray="6 4"/>`,
  );
  parts.push(line(bucket(s.delay, "max"), (i) => sx(i * stepS), (v) => sy(v), COLORS.delay, 1.2));
  return parts.join("\n");
}

function axes(
  box: PanelBox,
  h: number,
  xMax: number,
  yMax: number,
  yLabel: string,
  xLabels: boolean,
): string {
  const parts: string[] = [];
  const yStep = niceStep(yMax / 4);
  for (let v = 0; v <= yMax + 1e-9; v += yStep) {
    const y = box.y0 + h - (v / yMax) * h;
    parts.push(
      `<line x1="${box.x0}" x2="${box.x0 + box.w}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" ` +
        `stroke="${COLORS.grid}"/>`,
    );
    parts.push(text(box.x0 - 6, y + 4, num(v), { anchor: "end", size: 11 }));
  }
  const xStep = niceStep(xMax / 8);
  for (let t = 0; t <= xMax + 1e-9; t += xStep) {
    const x = box.x0 + (t / xMax) * box.w;
    parts.push(
      `<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${box.y0}" y2="${box.y0 + h}" ` +
        `stroke="${COLORS.grid}"/>`,
    );
    parts.push(text(x, box.y0 + h + 14, num(t), { anchor: "middle", size: 11 }));
  }
  if (xLabels) {
    parts.push(text(box.x0 + box.w, box.y0 + h + 28, "time (s)", { anchor: "end", size: 11 }));
  }
  parts.push(
    `<rect x="${box.x0}" y="${box.y0}" width="${box.w}" height="${h}" fill="none" ` +
      `stroke="${COLORS.axis}"/>`,
  );
  const cy = box.y0 + h / 2;
  parts.push(
    `<text x="${box.x0 - 46}" y="${cy}" font-size="11" text-anchor="middle" ` +
      `transform="rotate(-90 ${box.x0 - 46} ${cy})">${esc(yLabel)}</text>`,
  );
  return parts.join("\n");
}

function legend(y: number): string {
  const items: [string, string][] = [
    ["capacity (ISP bottleneck)", COLORS.capacity],
    ["shaper rate", COLORS.shaper],
    ["delivered throughput", COLORS.throughput],
    ["added delay (max per 0.1 s)", COLORS.delay],
    ["delay threshold", COLORS.threshold],
  ];
  const parts: string[] = [];
  let x = MARGIN_LEFT;
  for (const [label, color] of items) {
    if (color === COLORS.capacity) {
      parts.push(`<rect x="${x}" y="${y - 9}" width="22" height="12" fill="${color}"/>`);
    } else {
      const dash = color === COLORS.threshold ? ` stroke-dasharray="6 4"` : "";
      parts.push(
        `<line x1="${x}" x2="${x + 22}" y1="${y - 3}" y2="${y - 3}" stroke="${color}" ` +
          `stroke-width="2.5"${dash}/>`,
      );
    }
    parts.push(text(x + 28, y + 1, esc(label), { size: 12 }));
    x += 40 + label.length * 6.6;
  }
  parts.push(
    text(
      MARGIN_LEFT,
      y + 22,
      "Added delay = queueing delay above the base one-way delay seen by a sparse packet " +
        "(ping, game, call) while the direction is loaded.",
      { size: 11 },
    ),
  );
  return parts.join("\n");
}

/** Reduces a series to at most MAX_POINTS (index, value) pairs; NaN values break the line. */
function bucket(values: Float32Array, how: "mean" | "max"): [number, number][] {
  const n = values.length;
  const per = Math.max(1, Math.ceil(n / MAX_POINTS));
  const out: [number, number][] = [];
  for (let i = 0; i < n; i += per) {
    let acc = how === "max" ? -Infinity : 0;
    let k = 0;
    for (let j = i; j < Math.min(n, i + per); j++) {
      const v = values[j];
      if (Number.isNaN(v)) continue;
      acc = how === "max" ? Math.max(acc, v) : acc + v;
      k++;
    }
    out.push([i, k === 0 ? NaN : how === "max" ? acc : acc / k]);
  }
  return out;
}

function line(
  points: [number, number][],
  sx: (i: number) => number,
  sy: (v: number) => number,
  color: string,
  width: number,
): string {
  let d = "";
  let pen = false;
  for (const [i, v] of points) {
    if (Number.isNaN(v)) {
      pen = false;
      continue;
    }
    d += `${pen ? " L" : " M"}${sx(i).toFixed(1)},${sy(v).toFixed(1)}`;
    pen = true;
  }
  if (d === "") return "";
  return `<path d="${d.trim()}" fill="none" stroke="${color}" stroke-width="${width}" ` +
    `stroke-linejoin="round"/>`;
}

function text(
  x: number,
  y: number,
  content: string,
  o: { size?: number; anchor?: string; weight?: string } = {},
): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}"` +
    (o.size ? ` font-size="${o.size}"` : "") +
    (o.anchor ? ` text-anchor="${o.anchor}"` : "") +
    (o.weight ? ` font-weight="${o.weight}"` : "") + `>${content}</text>`;
}

function niceStep(raw: number): number {
  if (!(raw > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * p;
}

function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const step = niceStep(max / 4);
  return Math.ceil((max * 1.05) / step) * step;
}

function num(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(v < 1 ? 2 : 1);
}

function fmt(v: number | null, unit: string): string {
  return v === null ? "n/a" : `${v}${unit === "%" ? "" : " "}${unit}`;
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
