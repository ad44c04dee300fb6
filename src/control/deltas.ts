/**
 * Per-tick delta collection and the delay statistic (docs/algorithm.md §5). Shared by every
 * controller and by the control loop.
 */
import type { OwdState } from "./ports.ts";

/** Fewer fresh reflectors than this triggers a reselection request (constant upstream). */
export const MIN_FRESH_REFLECTORS = 5;

/** The deltas of one tick. */
export interface CollectedDeltas {
  /** Upload deltas (recent − baseline, ms), ascending. */
  ul: number[];
  /** Download deltas (recent − baseline, ms), ascending. */
  dl: number[];
  /** Number of fresh peers that contributed (= `ul.length` = `dl.length`). */
  fresh: number;
  /** Fewer than 5 fresh peers: the caller should request a reselection. */
  tooFew: boolean;
}

/**
 * Collects `recent − baseline` per direction for every current peer (in peer order) that has
 * both entries and whose recent sample is fresher than 2 × `tickInterval` seconds.
 */
export function collectDeltas(
  owd: OwdState,
  nowS: number,
  options: { tickInterval: number },
): CollectedDeltas {
  const window = 2 * options.tickInterval;
  const ul: number[] = [];
  const dl: number[] = [];
  for (const ip of owd.peers) {
    const base = owd.baseline.get(ip);
    const recent = owd.recent.get(ip);
    if (base === undefined || recent === undefined) continue;
    // A last time in the future (clock skew between writers) counts as fresh, like Rust's
    // saturating duration_since.
    if (!(nowS - recent.last_receive_time_s < window)) continue;
    ul.push(recent.up_ewma - base.up_ewma);
    dl.push(recent.down_ewma - base.down_ewma);
  }
  ul.sort((a, b) => a - b);
  dl.sort((a, b) => a - b);
  return { ul, dl, fresh: ul.length, tooFew: ul.length < MIN_FRESH_REFLECTORS };
}

/**
 * The delay statistic of a sorted delta list: the third smallest value, or the smallest when
 * fewer than 3; `undefined` for an empty list.
 */
export function delayStatistic(sorted: readonly number[]): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted.length >= 3 ? sorted[2] : sorted[0];
}
