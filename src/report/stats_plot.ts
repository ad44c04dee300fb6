/**
 * `sqm-autorate plot`'s picture: the daemon's statistics rows drawn in the simulator's style.
 * Per direction (download left, upload right): shaper rate and achieved throughput, load with
 * the high-load level, delay statistic with the delay threshold; optionally the last speed-history
 * dump as a histogram. Rows are resampled onto at most MAX_POINTS time buckets, so hours of data
 * draw as fast as minutes and a gap in the data (daemon stopped) stays a gap.
 */
import type { StatsRow } from "../control/ports.ts";
import type { SpeedHistoryDump } from "./stats_reader.ts";
import {
  axes,
  CHART_COLORS as COLORS,
  esc,
  legend,
  line,
  MAX_POINTS,
  niceMax,
  num,
  type PanelBox,
  svgOpen,
  text,
  thresholdLine,
} from "./svg_chart.ts";
import { percentile } from "../util/stats.ts";

const WIDTH = 1200;
const MARGIN_LEFT = 64;
const COL_GAP = 72;
const RATE_H = 150;
const LOAD_H = 70;
const DELAY_H = 90;
const HIST_H = 90;
const PANEL_GAP = 30;
const TOP = 112;

/** Thresholds marked in the picture (from the settings). */
export interface PlotThresholds {
  /** Download delay threshold, ms (`dl_max_delta_owd`). */
  dlDelayMs: number;
  /** Upload delay threshold, ms (`ul_max_delta_owd`). */
  ulDelayMs: number;
  /** `high_load_level`. */
  highLoad: number;
}

/** Options of `renderStatsPlot`. */
export interface StatsPlotOptions {
  /** Thresholds to mark. */
  thresholds: PlotThresholds;
  /** Names the data in the title (e.g. the file name). */
  source: string;
  /** Speed-history dumps; the last one is drawn. */
  speedHistory?: readonly SpeedHistoryDump[];
  /** Number of time buckets (default MAX_POINTS). */
  buckets?: number;
}

/** Per-bucket series of one direction; NaN where a bucket holds no row. */
interface Series {
  rate: Float64Array;
  throughput: Float64Array;
  load: Float64Array;
  delay: Float64Array;
}

/** The time axis of the resampled data. */
interface TimeGrid {
  t0: number;
  spanS: number;
  bucketS: number;
  n: number;
}

function timeOf(r: StatsRow): number {
  return r.times + r.timens / 1e9;
}

/** Resamples rows into `n` equal time buckets: means of rates and loads, max of delay. */
function resample(
  rows: readonly StatsRow[],
  n: number,
): { grid: TimeGrid; dl: Series; ul: Series } {
  const t0 = timeOf(rows[0]);
  const spanS = Math.max(1, timeOf(rows[rows.length - 1]) - t0);
  const buckets = Math.max(1, Math.min(n, rows.length));
  const bucketS = spanS / buckets;
  const make = (): Series => ({
    rate: new Float64Array(buckets),
    throughput: new Float64Array(buckets),
    load: new Float64Array(buckets),
    delay: new Float64Array(buckets).fill(NaN),
  });
  const dl = make();
  const ul = make();
  const count = new Uint32Array(buckets);
  for (const r of rows) {
    const b = Math.min(buckets - 1, Math.floor((timeOf(r) - t0) / bucketS));
    count[b]++;
    add(dl, b, r.dlrate, r.rxload, r.deltadelaydown);
    add(ul, b, r.uprate, r.txload, r.deltadelayup);
  }
  for (let b = 0; b < buckets; b++) {
    for (const s of [dl, ul]) {
      if (count[b] === 0) {
        s.rate[b] = s.throughput[b] = s.load[b] = NaN;
      } else {
        s.rate[b] /= count[b];
        s.throughput[b] /= count[b];
        s.load[b] /= count[b];
      }
    }
  }
  return { grid: { t0, spanS, bucketS, n: buckets }, dl, ul };
}

function add(s: Series, b: number, rate: number, load: number, delay: number): void {
  const l = Number.isFinite(load) ? load : 0;
  s.rate[b] += rate;
  s.load[b] += l;
  s.throughput[b] += l * rate;
  if (Number.isFinite(delay)) {
    s.delay[b] = Number.isNaN(s.delay[b]) ? delay : Math.max(s.delay[b], delay);
  }
}

/** Picks an x grid step in seconds that gives about 8 ticks. */
function timeStep(spanS: number): number {
  const steps = [10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
  return steps.find((s) => spanS / s <= 8) ?? 86400 * Math.ceil(spanS / 86400 / 8);
}

/** `HH:MM` (or `HH:MM:SS` for steps under a minute), with `MM-DD` first when asked. */
function clockLabel(epochS: number, o: { withDate: boolean; seconds: boolean }): string {
  const iso = new Date(epochS * 1000).toISOString();
  const time = iso.slice(11, o.seconds ? 19 : 16);
  return o.withDate ? `${iso.slice(5, 10)} ${time}` : time;
}

/** Per-direction summary shown above the panels. */
function summary(rows: readonly StatsRow[], dir: "dl" | "ul", thresholdMs: number): string {
  const rates = rows.map((r) => (dir === "dl" ? r.dlrate : r.uprate));
  const delays = rows.map((r) => (dir === "dl" ? r.deltadelaydown : r.deltadelayup))
    .filter(Number.isFinite);
  const over = delays.filter((d) => d > thresholdMs).length;
  const p95 = percentile(delays, 95);
  return `median rate ${num(round1(percentile(rates, 50) / 1000))} Mbit/s, ` +
    `p95 delay ${Number.isNaN(p95) ? "n/a" : `${num(round1(p95))} ms`}, ` +
    `above threshold ${
      delays.length === 0 ? "n/a" : `${num(round1((100 * over) / delays.length))} %`
    } of ticks`;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/** Renders the statistics rows (at least one) as an SVG document. */
export function renderStatsPlot(rows: readonly StatsRow[], options: StatsPlotOptions): string {
  if (rows.length === 0) throw new Error("renderStatsPlot needs at least one row");
  const { grid, dl, ul } = resample(rows, options.buckets ?? MAX_POINTS);
  const dump = options.speedHistory?.at(-1);
  const colW = (WIDTH - MARGIN_LEFT - 16 - COL_GAP) / 2;
  const histTop = TOP + RATE_H + LOAD_H + DELAY_H + 3 * PANEL_GAP + 20;
  const height = dump ? histTop + HIST_H + 50 : histTop + 10;
  const day = (t: number) => new Date(t * 1000).toISOString().slice(0, 10);
  const withDate = day(grid.t0) !== day(grid.t0 + grid.spanS);
  const start = new Date(grid.t0 * 1000).toISOString().replace("T", " ").slice(0, 19);
  const end = new Date((grid.t0 + grid.spanS) * 1000).toISOString().replace("T", " ").slice(0, 19);
  const out: string[] = [svgOpen(WIDTH, height)];
  out.push(
    text(
      WIDTH / 2,
      24,
      esc(
        `sqm-autorate statistics: ${options.source}, ${start} to ${end} UTC, ${rows.length} ticks`,
      ),
      { size: 17, anchor: "middle", weight: "bold" },
    ),
  );
  out.push(
    legend(
      [
        { label: "shaper rate", color: COLORS.shaper, mark: "line" },
        { label: "achieved throughput (load x rate)", color: COLORS.throughput, mark: "line" },
        { label: "load", color: COLORS.load, mark: "line" },
        { label: "delay statistic (max per bucket)", color: COLORS.delay, mark: "line" },
        { label: "threshold", color: COLORS.threshold, mark: "dashed" },
      ],
      { x: MARGIN_LEFT, y: 50 },
      `Each point is one bucket of ${num(round1(grid.bucketS))} s; gaps are times without ticks.`,
    ),
  );
  const xMax = grid.spanS;
  const xStep = timeStep(xMax);
  const xFirst = (xStep - (grid.t0 % xStep)) % xStep;
  const xTick = (t: number) => clockLabel(grid.t0 + t, { withDate, seconds: xStep < 60 });
  ([["dl", dl], ["ul", ul]] as const).forEach(([dir, s], c) => {
    const x0 = MARGIN_LEFT + c * (colW + COL_GAP);
    const label = dir === "dl" ? "Download" : "Upload";
    const delayMs = dir === "dl" ? options.thresholds.dlDelayMs : options.thresholds.ulDelayMs;
    const sx = (b: number) => x0 + (((b + 0.5) * grid.bucketS) / xMax) * colW;
    const pts = (a: Float64Array): [number, number][] => Array.from(a, (v, i) => [i, v]);
    out.push(
      text(x0, TOP - 8, esc(`${label}: ${summary(rows, dir, delayMs)}`), {
        size: 12,
        weight: "bold",
      }),
    );
    // rates
    let y0 = TOP;
    let box: PanelBox = { x0, y0, w: colW, label };
    const rateMax = niceMax(Math.max(maxOf(s.rate), maxOf(s.throughput)) / 1000);
    const syRate = (kbit: number) =>
      y0 + RATE_H - (Math.min(kbit / 1000, rateMax) / rateMax) * RATE_H;
    out.push(
      axes(box, {
        h: RATE_H,
        xMax,
        yMax: rateMax,
        yLabel: `${label} (Mbit/s)`,
        xStep,
        xTick,
        xFirst,
      }),
    );
    out.push(line(pts(s.throughput), sx, syRate, { color: COLORS.throughput, width: 1.2 }));
    out.push(line(pts(s.rate), sx, syRate, { color: COLORS.shaper, width: 1.8 }));
    // load
    y0 += RATE_H + PANEL_GAP;
    box = { x0, y0, w: colW, label };
    const loadMax = niceMax(Math.max(1, maxOf(s.load)));
    const syLoad = (l: number) => y0 + LOAD_H - (Math.min(l, loadMax) / loadMax) * LOAD_H;
    out.push(axes(box, { h: LOAD_H, xMax, yMax: loadMax, yLabel: "load", xStep, xTick, xFirst }));
    out.push(thresholdLine(box, syLoad(options.thresholds.highLoad)));
    out.push(line(pts(s.load), sx, syLoad, { color: COLORS.load, width: 1.2 }));
    // delay
    y0 += LOAD_H + PANEL_GAP;
    box = { x0, y0, w: colW, label };
    const delayMax = niceMax(Math.max(maxOf(s.delay), delayMs * 2));
    const syDelay = (ms: number) => y0 + DELAY_H - (Math.min(ms, delayMax) / delayMax) * DELAY_H;
    out.push(
      axes(box, {
        h: DELAY_H,
        xMax,
        yMax: delayMax,
        yLabel: "delay (ms)",
        xLabel: "time (UTC)",
        xStep,
        xTick,
        xFirst,
      }),
    );
    out.push(thresholdLine(box, syDelay(delayMs)));
    out.push(line(pts(s.delay), sx, syDelay, { color: COLORS.delay, width: 1.2 }));
    if (dump) {
      out.push(histogram(dump[dir === "dl" ? "down" : "up"], { x0, y0: histTop, w: colW, label }));
    }
  });
  if (dump) {
    out.push(
      text(
        MARGIN_LEFT,
        histTop - 10,
        esc(`Safe rates remembered at ${num(round1(dump.timeS))} s (last speed-history dump)`),
        { size: 12, weight: "bold" },
      ),
    );
  }
  out.push("</svg>");
  return out.join("\n") + "\n";
}

function maxOf(a: Float64Array): number {
  let m = 0;
  for (const v of a) if (Number.isFinite(v) && v > m) m = v;
  return m;
}

/** A histogram of safe rates (kbit/s) in 20 bins. */
function histogram(values: readonly number[], box: PanelBox): string {
  const bins = 20;
  const hi = niceMax(Math.max(...values, 1) / 1000);
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.floor((v / 1000 / hi) * bins))]++;
  const cMax = niceMax(Math.max(...counts, 1));
  const parts = [
    axes(box, {
      h: HIST_H,
      xMax: hi,
      yMax: cMax,
      yLabel: "count",
      xLabel: `${box.label} safe rate (Mbit/s)`,
    }),
  ];
  const bw = box.w / bins;
  counts.forEach((c, i) => {
    if (c === 0) return;
    const h = (c / cMax) * HIST_H;
    parts.push(
      `<rect x="${(box.x0 + i * bw + 1).toFixed(1)}" y="${(box.y0 + HIST_H - h).toFixed(1)}" ` +
        `width="${(bw - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS.shaper}"/>`,
    );
  });
  return parts.join("\n");
}
