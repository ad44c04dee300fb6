/** Plain-text tables for the end-to-end results. */
import type { StatsRow } from "./probes.ts";
import type { QueueSample, ScenarioResult } from "./scenario.ts";
import { mean } from "../../src/util/stats.ts";

function pad(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
}

function table(header: readonly string[], rows: readonly string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const lines = [pad(header, widths), widths.map((w) => "-".repeat(w)).join("  ")];
  for (const r of rows) lines.push(pad(r, widths));
  return lines.join("\n");
}

/**
 * iperf3's goodput, or the interface counter's rate when iperf3 gave no result (NaN, or null once
 * the result went through JSON); of a scenario's download or of its upload.
 */
export function goodput(
  r: { readonly throughputBps: number | null; readonly counterBps: number },
): number {
  return r.throughputBps !== null && Number.isFinite(r.throughputBps)
    ? r.throughputBps
    : r.counterBps;
}

const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : "-");

/** The upload flows' goodput (two-way load), iperf3's or the interface counter's; else NaN. */
export function uploadGoodput(r: ScenarioResult): number {
  return r.upload ? goodput(r.upload) : NaN;
}

/**
 * One row per scenario: RTT idle/under load, loss, throughput and its share of capacity; with a
 * two-way load also the upload's goodput and share of its capacity.
 */
export function formatResultTable(results: readonly ScenarioResult[]): string {
  const twoWay = results.some((r) => r.upload !== undefined);
  const upCells = (r: ScenarioResult) =>
    twoWay
      ? [
        Number.isFinite(uploadGoodput(r)) ? (uploadGoodput(r) / 1e6).toFixed(2) : "-",
        r.upload ? ((100 * uploadGoodput(r)) / r.upload.capacityBps).toFixed(0) : "-",
        r.ispUpQueueMs ? `${r.ispUpQueueMs.p50.toFixed(0)}/${r.ispUpQueueMs.p95.toFixed(0)}` : "-",
        r.ispUpQueueMs ? r.ispUpQueueMs.betweenStepsP50.toFixed(0) : "-",
      ]
      : [];
  return table(
    [
      "scenario",
      "idle p50 ms",
      "load p50 ms",
      "load p95 ms",
      "steady p95 ms",
      "loss %",
      "iperf3 Mbit/s",
      "counter Mbit/s",
      "capacity Mbit/s",
      "share %",
      "ISP q p50/p95 ms",
      "router q p95 KB",
      ...(twoWay ? ["up Mbit/s", "up share %", "ISP up q p50/p95 ms", "… between steps"] : []),
    ],
    results.map((r) => [
      r.label,
      ms(r.idle.p50),
      ms(r.loaded.p50),
      ms(r.loaded.p95),
      ms(r.steady.p95),
      Number.isFinite(r.loaded.lossPct) ? r.loaded.lossPct.toFixed(1) : "-",
      Number.isFinite(r.throughputBps) ? (r.throughputBps / 1e6).toFixed(2) : "failed",
      (r.counterBps / 1e6).toFixed(2),
      (r.meanCapacityBps / 1e6).toFixed(2),
      ((100 * goodput(r)) / r.meanCapacityBps).toFixed(0),
      `${r.ispQueueMs.p50.toFixed(0)}/${r.ispQueueMs.p95.toFixed(0)}`,
      (r.routerQueueP95Bytes / 1000).toFixed(1),
      ...upCells(r),
    ]),
  );
}

/** The daemon's statistics rows between `fromS` and `toS` seconds relative to `refMs`. */
export function formatRateTrace(
  rows: readonly StatsRow[],
  refMs: number,
  window: { fromS: number; toS: number },
): string {
  const picked = rows.filter((r) =>
    r.timeMs >= refMs + window.fromS * 1000 && r.timeMs <= refMs + window.toS * 1000
  );
  return table(
    ["t-step s", "dlrate", "uprate", "rxload", "txload", "ddown ms", "dup ms"],
    picked.map((r) => [
      ((r.timeMs - refMs) / 1000).toFixed(2),
      r.dlrate.toFixed(0),
      r.uprate.toFixed(0),
      r.rxload.toFixed(2),
      r.txload.toFixed(2),
      r.deltadelaydown.toFixed(2),
      r.deltadelayup.toFixed(2),
    ]),
  );
}

/**
 * Queue samples between `fromS` and `toS` relative to `refMs` (ISP and router backlog, KB; the
 * upload's too when sampled).
 */
export function formatQueueTrace(
  samples: readonly QueueSample[],
  refMs: number,
  window: { fromS: number; toS: number },
): string {
  const picked = samples.filter((q) =>
    q.tMs >= refMs + window.fromS * 1000 && q.tMs <= refMs + window.toS * 1000
  );
  const upload = picked.some((q) => q.ispUpBytes !== undefined);
  const kb = (b: number | undefined) => (b === undefined ? "-" : (b / 1000).toFixed(1));
  return table(
    ["t-step s", "ISP KB", "router KB", ...(upload ? ["ISP up KB", "router up KB"] : [])],
    picked.map((q) => [
      ((q.tMs - refMs) / 1000).toFixed(2),
      kb(q.ispBytes),
      kb(q.routerBytes),
      ...(upload ? [kb(q.ispUpBytes), kb(q.routerUpBytes)] : []),
    ]),
  );
}

/** A download rate and what was delivered at one time of a run, kbit/s (`tS`: s from load start). */
export interface RatePoint {
  readonly tS: number;
  readonly rate: number;
  readonly delivered: number;
}

/**
 * Mean rate and delivery before the step down, between the steps and after the step up (of the
 * `loadS` load), in the order of `PHASES`; NaN for a phase without points.
 */
export function phaseMeans(
  points: readonly RatePoint[],
  s: { stepDownAtS: number; stepUpAtS: number; loadS: number },
): { rate: number; delivered: number }[] {
  const bounds = [[0, s.stepDownAtS], [s.stepDownAtS, s.stepUpAtS], [s.stepUpAtS, s.loadS]];
  return bounds.map(([from, to]) => {
    const inside = points.filter((p) => p.tS >= from && p.tS < to);
    return {
      rate: mean(inside.map((p) => p.rate)),
      delivered: mean(inside.map((p) => p.delivered)),
    };
  });
}

/** Names of {@linkcode phaseMeans}'s phases. */
export const PHASES = ["before the steps", "between the steps", "after the steps"] as const;
