/**
 * A follow stop confirmed by a second decision (v74b, docs/controllers.md "v74"). Climbing above
 * its target behind a FIFO shaper, the download stops just under what it delivered once a decision
 * delivers less than `stopLoad` of its rate (capacity_upstream.ts): the bottleneck was found. At
 * 200 Mbit/s on the e2e testbed one decision's counter reads scatter by about 2 % (GSO packets
 * counted as they pass a busy machine), and single decisions under the limit with no queue anywhere
 * stopped the climb after the step up at 72–87 Mbit/s of 200, a second lost each. A real bottleneck
 * keeps delivering less than the rate: the first decision under the limit holds the rate, the next
 * one, if it is under the limit too, stops.
 */

/** What the rule keeps of a direction. */
export interface FollowConfirmState {
  /** When the last decision under the limit was held (s; NaN: the last one was not under it). */
  stopLowS: number;
}

/** The rule's tunables. */
export interface FollowConfirmParams {
  /** A held decision confirms a stop for this long after it, s; 0: the rule is off. */
  confirmS: number;
}

/**
 * Called with each decision's verdict (`low`: it delivered less than the stop's limit above the
 * target). Returns `"stop"` (confirmed, or the rule is off), `"hold"` (the first one) or
 * `"none"` (not under the limit).
 */
export function followVerdict(
  s: FollowConfirmState,
  now: number,
  x: { low: boolean; p: FollowConfirmParams },
): "stop" | "hold" | "none" {
  if (!x.low) {
    s.stopLowS = NaN;
    return "none";
  }
  if (!(x.p.confirmS > 0) || now - s.stopLowS <= x.p.confirmS) {
    s.stopLowS = NaN;
    return "stop";
  }
  s.stopLowS = now;
  return "hold";
}
