/**
 * The periodic one-line summary the daemon logs at INFO (every 5 minutes by default), so a log
 * read over days shows what the control did without a line per rate change (those are DEBUG).
 * See docs/operation.md, "Logging".
 */
import { percentile } from "../util/stats.ts";
import type { TickPath, TickResult } from "./loop.ts";

/** Default summary period, seconds. */
export const SUMMARY_PERIOD_S = 300;

/** Collects ticks and renders one line per period. */
export class PeriodicSummary {
  readonly #periodS: number;
  readonly #emit: (line: string) => void;
  readonly #memory: (() => Deno.MemoryUsage) | undefined;
  #startS: number | undefined;
  #paths: Partial<Record<TickPath, number>> = {};
  /** Ticks recorded in this period. */
  #ticks = 0;
  /** The last tick's rates. */
  #lastDl = 0;
  #lastUl = 0;
  // Ranges kept as they come, not arrays of every tick: under `capacity` a period holds 3000
  // ticks, whose arrays (and their regrown copies) end up in the old generation (docs/footprint.md,
  // "Thirty-first session"). The delays stay whole: their medians need them.
  #dl = new Range();
  #ul = new Range();
  #rx = new Range();
  #tx = new Range();
  #delayDown: number[] = [];
  #delayUp: number[] = [];

  /**
   * `emit` receives each summary line; `periodS` defaults to `SUMMARY_PERIOD_S`; `memory`, when
   * given, is read once per line and its resident set and JS heap used end the line (a slow leak
   * shows over days of logs).
   */
  constructor(
    emit: (line: string) => void,
    options: { periodS?: number; memory?: () => Deno.MemoryUsage } = {},
  ) {
    this.#emit = emit;
    this.#periodS = options.periodS ?? SUMMARY_PERIOD_S;
    this.#memory = options.memory;
  }

  /** Records one tick at `nowS`; emits the summary when a period has passed. */
  record(nowS: number, tick: TickResult): void {
    this.#startS ??= nowS;
    this.#paths[tick.path] = (this.#paths[tick.path] ?? 0) + 1;
    this.#ticks++;
    this.#lastDl = tick.next_dl_rate;
    this.#lastUl = tick.next_ul_rate;
    this.#dl.add(tick.next_dl_rate);
    this.#ul.add(tick.next_ul_rate);
    const r = tick.readings;
    if (r !== undefined) {
      this.#delayDown.push(r.down_del_stat);
      this.#delayUp.push(r.up_del_stat);
      this.#rx.add(r.rx_load);
      this.#tx.add(r.tx_load);
    }
    if (nowS - this.#startS >= this.#periodS) this.flush(nowS);
  }

  /** Emits the summary of what was recorded since the last one (nothing when empty). */
  flush(nowS: number): void {
    const ticks = this.#ticks;
    if (ticks === 0 || this.#startS === undefined) return;
    const paths = Object.entries(this.#paths).map(([p, n]) => `${n} ${p}`).join(", ");
    const parts = [
      `last ${Math.round(nowS - this.#startS)} s: ${ticks} ticks (${paths})`,
      `download ${this.#dl.text(0)} kbit/s (now ${this.#lastDl})`,
      `upload ${this.#ul.text(0)} kbit/s (now ${this.#lastUl})`,
    ];
    if (this.#delayDown.length > 0) {
      parts.push(
        `delay down median ${fixed(percentile(this.#delayDown, 50), 1)} / max ` +
          `${fixed(Math.max(...this.#delayDown), 1)} ms, up median ` +
          `${fixed(percentile(this.#delayUp, 50), 1)} / max ${
            fixed(Math.max(...this.#delayUp), 1)
          } ms`,
        `load rx ${this.#rx.text(2)}, tx ${this.#tx.text(2)}`,
      );
    }
    const m = this.#memory?.();
    if (m !== undefined) parts.push(`memory rss ${mb(m.rss)} MB, JS heap ${mb(m.heapUsed)} MB`);
    this.#emit(parts.join("; "));
    this.#startS = nowS;
    this.#paths = {};
    this.#ticks = 0;
    this.#dl = new Range();
    this.#ul = new Range();
    this.#rx = new Range();
    this.#tx = new Range();
    this.#delayDown = [];
    this.#delayUp = [];
  }
}

function fixed(v: number, digits: number): string {
  return Number.isFinite(v) ? v.toFixed(digits) : "n/a";
}

function mb(bytes: number): string {
  return fixed(bytes / 1e6, 1);
}

/** The lowest and highest of the values added (NaN skipped, as comparisons skip it). */
class Range {
  #lo = Infinity;
  #hi = -Infinity;

  add(v: number): void {
    if (v < this.#lo) this.#lo = v;
    if (v > this.#hi) this.#hi = v;
  }

  /** `lo–hi` with `digits` decimals, or one figure when both print the same. */
  text(digits: number): string {
    // Compared as printed: loads of 0.001 and 0.003 are "0.00", not "0.00–0.00".
    const [a, b] = [fixed(this.#lo, digits), fixed(this.#hi, digits)];
    return a === b ? a : `${a}–${b}`;
  }
}
