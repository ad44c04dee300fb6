/**
 * What the capacity controller reads from the measurement state each decision: per reflector
 * the delta of its LAST raw sample against its baseline (not the smoothed EWMA), so one new
 * reply is seen within one decision, and whether the pinger measures RTT only (up = down).
 * See docs/controllers.md ("Design").
 */
import type { OwdState } from "../control/ports.ts";

/** The fresh per-reflector deltas of one decision, in peer order. */
export interface SampleView {
  /** Download deltas (last sample − baseline, ms). */
  dl: number[];
  /** Upload deltas (ms). */
  ul: number[];
  /** Receive times of those samples (monotonic s). */
  at: number[];
  /** The reflectors of those samples. */
  ip: string[];
  /** Every fresh reflector reported up = down (RTT/2 from an echo pinger): no direction. */
  rttOnly: boolean;
}

/**
 * Collects the last raw sample of every current peer received within `freshS` of `nowS`
 * (falls back to the fast EWMA when the state keeps no raw samples).
 */
export function readSamples(owd: OwdState, nowS: number, freshS: number): SampleView {
  const view: SampleView = { dl: [], ul: [], at: [], ip: [], rttOnly: true };
  const raw = owd.latest ?? owd.recent;
  // Index loops here and below: for-of's iterator costs the interpreter more, in every decision
  // (docs/footprint.md, "v57").
  for (let p = 0; p < owd.peers.length; p++) {
    const ip = owd.peers[p];
    const base = owd.baseline.get(ip);
    const last = raw.get(ip);
    if (base === undefined || last === undefined) continue;
    if (!(nowS - last.last_receive_time_s < freshS)) continue;
    view.dl.push(last.down_ewma - base.down_ewma);
    view.ul.push(last.up_ewma - base.up_ewma);
    view.at.push(last.last_receive_time_s);
    view.ip.push(ip);
    if (last.up_ewma !== last.down_ewma) view.rttOnly = false;
  }
  if (view.dl.length === 0) view.rttOnly = false;
  return view;
}

/** How many of `values` exceed `limit`. */
export function countAbove(values: readonly number[], limit: number): number {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (values[i] > limit) n++;
  return n;
}

/**
 * How many samples exceed `above` among the probes sent after `since` (s): a reflector's vote
 * for a cut, not counted again for a queue an earlier cut already answered. A sample above
 * `grown` (ms; default never) votes whenever it was sent: the queue grew past the one that cut
 * answered (docs/controllers.md, "Turn rules" (3)).
 */
export function countAboveSince(
  deltas: readonly number[],
  sent: readonly number[],
  o: { above: number; since: number; grown?: number },
): number {
  const grown = o.grown ?? Infinity;
  let n = 0;
  for (let i = 0; i < deltas.length; i++) {
    if (deltas[i] > o.above && (sent[i] > o.since || deltas[i] > grown)) n++;
  }
  return n;
}

/** The second largest value (the largest with one value; 0 with none): a max that one outlier cannot set. */
export function secondLargest(values: readonly number[]): number {
  let a = -Infinity, b = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v > a) {
      b = a;
      a = v;
    } else if (v > b) b = v;
  }
  if (values.length === 0) return 0;
  return values.length === 1 ? a : b;
}
