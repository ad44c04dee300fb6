/**
 * SVG drawing primitives shared by the simulator's plot and `sqm-autorate plot`: panel axes with
 * a grid, polylines that break on NaN, filled areas, a legend, and downsampling to a fixed
 * number of points. Every function returns SVG source text; nothing here does I/O.
 */

/** The palette: one colour per kind of series, the same in every picture. */
export const CHART_COLORS = {
  capacity: "#c8ccd2",
  shaper: "#1f5fbf",
  throughput: "#2a9d4b",
  delay: "#d62728",
  threshold: "#e08a00",
  load: "#7b3fa0",
  grid: "#e6e8eb",
  axis: "#555",
  text: "#222",
} as const;

/** At most this many points per drawn series (a 1200 px wide picture needs no more). */
export const MAX_POINTS = 900;

/** A panel's rectangle and its y-axis label. */
export interface PanelBox {
  /** Left edge. */
  x0: number;
  /** Top edge. */
  y0: number;
  /** Width. */
  w: number;
  /** Label shown in the panel's title (e.g. "Download"). */
  label: string;
}

/** Opening tag and white background of a document of `width` × `height`. */
export function svgOpen(width: number, height: number): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" ` +
    `font-size="12" fill="${CHART_COLORS.text}">\n` +
    `<rect width="${width}" height="${height}" fill="white"/>`;
}

/** Options of `axes`. */
export interface AxesOptions {
  /** Panel height. */
  h: number;
  /** X range is [0, xMax]. */
  xMax: number;
  /** Y range is [0, yMax]. */
  yMax: number;
  /** Rotated label left of the y axis. */
  yLabel: string;
  /** Label under the x axis' right end (none when absent). */
  xLabel?: string;
  /** X grid step (default: a nice step for 8 divisions). */
  xStep?: number;
  /** Tick text of an x value (default: the number). */
  xTick?: (x: number) => string;
  /** X of the first tick (default 0), e.g. to put ticks on round clock times. */
  xFirst?: number;
}

/** Grid, tick labels, frame and y label of one panel. */
export function axes(box: PanelBox, o: AxesOptions): string {
  const { h, xMax, yMax } = o;
  const parts: string[] = [];
  const yStep = niceStep(yMax / 4);
  for (let v = 0; v <= yMax + 1e-9; v += yStep) {
    const y = box.y0 + h - (v / yMax) * h;
    parts.push(
      `<line x1="${box.x0}" x2="${box.x0 + box.w}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" ` +
        `stroke="${CHART_COLORS.grid}"/>`,
    );
    parts.push(text(box.x0 - 6, y + 4, num(v), { anchor: "end", size: 11 }));
  }
  const xStep = o.xStep ?? niceStep(xMax / 8);
  const tick = o.xTick ?? num;
  for (let t = o.xFirst ?? 0; t <= xMax + 1e-9; t += xStep) {
    const x = box.x0 + (t / xMax) * box.w;
    parts.push(
      `<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${box.y0}" y2="${box.y0 + h}" ` +
        `stroke="${CHART_COLORS.grid}"/>`,
    );
    parts.push(text(x, box.y0 + h + 14, esc(tick(t)), { anchor: "middle", size: 11 }));
  }
  if (o.xLabel !== undefined) {
    parts.push(text(box.x0 + box.w, box.y0 + h + 28, esc(o.xLabel), { anchor: "end", size: 11 }));
  }
  parts.push(
    `<rect x="${box.x0}" y="${box.y0}" width="${box.w}" height="${h}" fill="none" ` +
      `stroke="${CHART_COLORS.axis}"/>`,
  );
  const cy = box.y0 + h / 2;
  parts.push(
    `<text x="${box.x0 - 46}" y="${cy}" font-size="11" text-anchor="middle" ` +
      `transform="rotate(-90 ${box.x0 - 46} ${cy})">${esc(o.yLabel)}</text>`,
  );
  return parts.join("\n");
}

/** A horizontal dashed line across the panel at screen y (a threshold). */
export function thresholdLine(box: PanelBox, y: number): string {
  return `<line x1="${box.x0}" x2="${box.x0 + box.w}" y1="${y.toFixed(1)}" ` +
    `y2="${y.toFixed(1)}" stroke="${CHART_COLORS.threshold}" stroke-width="1.2" ` +
    `stroke-dasharray="6 4"/>`;
}

/** One legend entry: a filled box, a line, or a dashed line. */
export interface LegendItem {
  /** Text. */
  label: string;
  /** Colour. */
  color: string;
  /** How the sample is drawn. */
  mark: "area" | "line" | "dashed";
}

/** A legend row at (x, y), with an optional note line below it. */
export function legend(
  items: readonly LegendItem[],
  at: { x: number; y: number },
  note?: string,
): string {
  const parts: string[] = [];
  let x = at.x;
  const y = at.y;
  for (const { label, color, mark } of items) {
    if (mark === "area") {
      parts.push(`<rect x="${x}" y="${y - 9}" width="22" height="12" fill="${color}"/>`);
    } else {
      const dash = mark === "dashed" ? ` stroke-dasharray="6 4"` : "";
      parts.push(
        `<line x1="${x}" x2="${x + 22}" y1="${y - 3}" y2="${y - 3}" stroke="${color}" ` +
          `stroke-width="2.5"${dash}/>`,
      );
    }
    parts.push(text(x + 28, y + 1, esc(label), { size: 12 }));
    x += 40 + label.length * 6.6;
  }
  if (note !== undefined) parts.push(text(at.x, y + 22, esc(note), { size: 11 }));
  return parts.join("\n");
}

/**
 * Reduces a series to at most `maxPoints` (index, value) pairs by mean or max per bucket; NaN
 * values are skipped, and a bucket of only NaN gives NaN (a gap in the line).
 */
export function bucket(
  values: ArrayLike<number>,
  how: "mean" | "max",
  maxPoints: number = MAX_POINTS,
): [number, number][] {
  const n = values.length;
  const per = Math.max(1, Math.ceil(n / maxPoints));
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

/** A polyline through (x, v) points mapped by `sx`/`sy`; NaN values lift the pen. */
export function line(
  points: readonly [number, number][],
  sx: (x: number) => number,
  sy: (v: number) => number,
  style: { color: string; width: number },
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
  return `<path d="${d.trim()}" fill="none" stroke="${style.color}" ` +
    `stroke-width="${style.width}" stroke-linejoin="round"/>`;
}

/** A filled area under (x, v) points from `fromX` to `toX` down to `sy(0)`. */
export function area(
  points: readonly [number, number][],
  sx: (x: number) => number,
  sy: (v: number) => number,
  span: { fromX: number; toX: number; color: string },
): string {
  let d = `M${sx(span.fromX).toFixed(1)},${sy(0).toFixed(1)}`;
  for (const [i, v] of points) d += ` L${sx(i).toFixed(1)},${sy(v).toFixed(1)}`;
  d += ` L${sx(span.toX).toFixed(1)},${sy(0).toFixed(1)} Z`;
  return `<path d="${d}" fill="${span.color}" stroke="none"/>`;
}

/** A `<text>` element; `content` must already be escaped. */
export function text(
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

/** 1, 2, 2.5 or 5 times a power of ten, at least `raw`. */
export function niceStep(raw: number): number {
  if (!(raw > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * p;
}

/** A round axis maximum a little above `max`. */
export function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const step = niceStep(max / 4);
  return Math.ceil((max * 1.05) / step) * step;
}

/** A tick number: integers as is, others with one or two decimals. */
export function num(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(v < 1 ? 2 : 1);
}

/** Escapes text for SVG content. */
export function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
