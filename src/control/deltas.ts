/**
 * Per-tick delta collection and the delay statistic (docs/algorithm.md §5). Shared by every
 * controller and by the control loop.
 */
import type { OwdEntry, OwdState } from "./ports.ts";

/** Fewer fresh reflectors than this triggers a reselection request (constant upstream). */
export const MIN_FRESH_REFLECTORS = 5;

/**
 * The round-trip delay `sample` adds over `baseline`, ms: both directions' deltas together (with
 * an RTT-only pinger each direction holds half of it).
 */
export function rttDeltaMs(sample: OwdEntry, baseline: OwdEntry): number {
  return sample.up_ewma + sample.down_ewma - baseline.up_ewma - baseline.down_ewma;
}

/** One fresh reflector's contribution to a tick (peer order). */
export interface DeltaSample {
  /** The reflector's address. */
  reflector: string;
  /** Upload delta (recent − baseline), ms. */
  ul_delta: number;
  /** Download delta (recent − baseline), ms. */
  dl_delta: number;
  /** Age of the reflector's latest reply at the tick, s (0 when its clock ran ahead). */
  age_s: number;
  /** Upload delta of that latest reply alone (raw sample − baseline, no smoothing), ms. */
  ul_last?: number;
  /** Download delta of that latest reply alone, ms. */
  dl_last?: number;
}

/** The deltas of one tick. */
export interface CollectedDeltas {
  /** Upload deltas (recent − baseline, ms), ascending. */
  ul: number[];
  /** Download deltas (recent − baseline, ms), ascending. */
  dl: number[];
  /** The same deltas per reflector, with identity and sample age, in peer order. */
  samples: DeltaSample[];
  /** Number of fresh peers that contributed (= `ul.length` = `dl.length`). */
  fresh: number;
  /** Peers without a fresh reply that are still awaited after a selection (`awaitedUntilS`). */
  awaited: number;
  /**
   * Fewer than 5 peers fresh or awaited: the caller should request a reselection. A peer of a new
   * set is not missing before its process had its first chance to answer (docs/operation.md,
   * "Its helper processes").
   */
  tooFew: boolean;
}

/** How recent a peer's last reply must be to count as fresh: 2 × `tick_interval` (s). */
export function freshWindowS(tickInterval: number): number {
  return 2 * tickInterval;
}

/** Numeric order for `Array.prototype.sort`. */
const ascending = (a: number, b: number): number => a - b;

/**
 * Collects `recent − baseline` per direction for every current peer (in peer order) that has
 * both entries and whose recent sample is fresher than 2 × `tickInterval` seconds.
 */
export function collectDeltas(
  owd: OwdState,
  nowS: number,
  options: { tickInterval: number },
): CollectedDeltas {
  const window = freshWindowS(options.tickInterval);
  const ul: number[] = [];
  const dl: number[] = [];
  const samples: DeltaSample[] = [];
  // An index loop and one module-level comparator: this runs every decision, interpreted (the
  // release flags), where `for…of` runs the iterator protocol per peer and each arrow function
  // written here would be a new closure (docs/footprint.md, "Fourteenth session").
  const peers = owd.peers;
  const awaitedUntilS = owd.awaitedUntilS;
  let awaited = 0;
  for (let i = 0; i < peers.length; i++) {
    const ip = peers[i];
    const base = owd.baseline.get(ip);
    const recent = owd.recent.get(ip);
    // A last time in the future (clock skew between writers) counts as fresh, like Rust's
    // saturating duration_since.
    if (
      base === undefined || recent === undefined ||
      !(nowS - recent.last_receive_time_s < window)
    ) {
      if (awaitedUntilS !== undefined && nowS < (awaitedUntilS.get(ip) ?? -Infinity)) awaited++;
      continue;
    }
    const last = owd.latest?.get(ip) ?? recent;
    const sample = {
      reflector: ip,
      ul_delta: recent.up_ewma - base.up_ewma,
      dl_delta: recent.down_ewma - base.down_ewma,
      age_s: Math.max(0, nowS - recent.last_receive_time_s),
      ul_last: last.up_ewma - base.up_ewma,
      dl_last: last.down_ewma - base.down_ewma,
    };
    samples.push(sample);
    ul.push(sample.ul_delta);
    dl.push(sample.dl_delta);
  }
  ul.sort(ascending);
  dl.sort(ascending);
  const tooFew = ul.length + awaited < MIN_FRESH_REFLECTORS;
  return { ul, dl, samples, fresh: ul.length, awaited, tooFew };
}

/**
 * The delay statistic of a sorted delta list: the third smallest value, or the smallest when
 * fewer than 3; `undefined` for an empty list.
 */
export function delayStatistic(sorted: readonly number[]): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted.length >= 3 ? sorted[2] : sorted[0];
}
