/**
 * The capacity controller's download rules for a shaper without flow isolation (tbf, htb) behind
 * the bottleneck: docs/controllers.md, "Download behind the bottleneck". Our download shaper
 * sits after the ISP's queue, so (1) the byte counters show within one decision when the link
 * delivers less than our rate, long before a growing queue reaches the probes, and (2) that
 * queue drains only once the senders slow down, which needs drops at our shaper: a rate clearly
 * under the bottleneck's for about the drain time.
 */
import { countAboveSince, secondLargest } from "./sample_view.ts";
import { updateFall } from "./fall_measure.ts";
import { followVerdict } from "./follow_confirm.ts";

/** Tunables of the rules below (docs/controllers.md measured them on the e2e testbed). */
export interface UpstreamParams {
  /** Off: the capacity controller's general rules only (for comparisons). */
  enabled: boolean;
  /** A decision that delivered less than this share of the rate shows the bottleneck upstream. */
  cutLoad: number;
  /** An upstream cut aims to drain the queue the samples show within this time, s. */
  drainS: number;
  /** An upstream cut goes at least this far under what was delivered. */
  depth: number;
  /** Never deeper than this share of what was delivered at once. */
  maxDepth: number;
  /** A queue growing faster than this (ms/s) while we deliver our rate is the bottleneck's. */
  growthMsPerS: number;
  /** The growth must last this long (our own FIFO filling is a step, over within it), s. */
  growthS: number;
  /** A growth cut sets the rate to this share of what was delivered. */
  growthStep: number;
  /** Delivering our whole rate, a growth cut goes no lower than this share of it. */
  growthFloor: number;
  /** A standing queue cuts only while the rate is under this many times the measured capacity. */
  standingNear: number;
  /** Climbing, the rate is at most this much above what the last decision delivered. */
  climb: number;
  /** Above the regular target, delivering less than this share of the rate stops the climb. */
  stopLoad: number;
  /** Delivering this many times what an upstream cut measured, the capacity has come back. */
  pass: number;
  /** After a fall, probe speed right after a queue, fraction of the estimate per s. */
  probePerS: number;
  /** After a fall, the probe speed doubles every this many seconds without a queue. */
  probeDoubleS: number;
  /** After a fall, highest probe speed under `pass` times its measure. */
  probeNearPerS: number;
  /** Probe speed once the capacity has come back (the climb limit bounds it too). */
  probeMaxPerS: number;
  /** The fast probe goes up to this share of the estimate before the fall. */
  fastUpTo: number;
  /**
   * A further upstream cut with the rate within this multiple of the minimum, while a fall is
   * open, keeps the level before that fall (v43); 0: every cut takes the estimate before it.
   */
  floorKeep: number;
  /**
   * A later cut above `pass` times the fall's measure but under `fastUpTo` of the level before
   * the fall refines the measure instead of ending the fall (v74a, fall_measure.ts).
   */
  refineFall: boolean;
  /**
   * A follow stop needs a second decision under `stopLoad` within this long of the first, which
   * holds the rate, s; 0: one decision stops (v74b, follow_confirm.ts).
   */
  stopConfirmS: number;
  /**
   * With no fall open, a sample above the queue the general rule's last cut saw (plus the trigger)
   * votes for an upstream cut whenever its probe left, so a fall whose first cut was the general
   * rule's still opens (e2e25); false: only probes sent after the last cut vote.
   */
  grownVotes: boolean;
  /**
   * Before any cut measured the capacity, with probes that skip our download FIFO (tc showed it),
   * a queue standing near the estimate (the base rate, or more delivered without a queue) cuts as
   * one near a measured capacity does (e2e26a); false: the standing cut waits for a first measure.
   */
  standingUnmeasured: boolean;
}

/** The measured defaults. */
export const UPSTREAM_DEFAULTS: Readonly<UpstreamParams> = {
  enabled: true,
  cutLoad: 0.9,
  drainS: 0.3,
  depth: 0.75,
  maxDepth: 0.5,
  growthMsPerS: 10,
  growthS: 0.5,
  growthStep: 0.9,
  growthFloor: 0.8,
  standingNear: 1.1,
  climb: 1.08,
  stopLoad: 0.94,
  pass: 1.1,
  probePerS: 0.05,
  probeDoubleS: 0.5,
  probeNearPerS: 0.3,
  probeMaxPerS: 1,
  fastUpTo: 0.85,
  floorKeep: 1.01,
  refineFall: true,
  stopConfirmS: 0.25,
  grownVotes: true,
  standingUnmeasured: true,
};

/** The part of the capacity controller's per-direction state these rules read and set. */
export interface UpstreamState {
  /** Capacity estimate, kbit/s. */
  cap: number;
  /** The level a return after a dip aims at, kbit/s. */
  recall: number;
  /** Time of the last cut, s. */
  lastCutS: number;
  /** The queue (largest-but-one sample, ms) the last general rule's cut saw. */
  readonly lastCutQueueMs: number;
  /** The rate the last cut set, kbit/s. */
  lastCutRate: number;
  /** Time a queue was last seen, s. */
  lastQueueS: number;
  /** The last cut wanted to go deeper than the half-rate limit let it. */
  capped: boolean;
  /** The capacity the last cut measured, kbit/s. */
  cutCap: number;
  /** What the last upstream cut measured after a fall, kbit/s (0: a later cut found more). */
  fallCap: number;
  /** The estimate before that fall, kbit/s. */
  fallFrom: number;
  /** Since when the queue has kept growing (s; NaN: it is not). */
  growingSinceS: number;
  /** When a follow stop's first decision was held (s; NaN: none; follow_confirm.ts). */
  stopLowS: number;
  /** Lowest rate, kbit/s. */
  readonly min: number;
}

/** What one decision sees. */
export interface UpstreamInput {
  now: number;
  /** Rate in force during the decision's interval, kbit/s. */
  cur: number;
  /** Delivered in this decision, kbit/s. */
  thr: number;
  /** Delay threshold, ms. */
  threshold: number;
  /** Fraction of the threshold a sample must exceed to vote for a cut. */
  triggerFraction: number;
  /** Votes needed (capped at the number of fresh samples). */
  votes: number;
  /** Fresh per-reflector deltas, ms. */
  deltas: readonly number[];
  /** When each of those probes left, s. */
  sent: readonly number[];
  /** Delivered in the decision before this one, kbit/s. */
  prevThr: number;
  /** Growth rate of the recent samples, ms/s. */
  slopeMsPerS: number;
  /** Samples above the whole threshold, sent after the last cut's drain time. */
  drainedVotes: number;
  /** tc showed that the probes skip our download FIFO: a queue they see is not its. */
  probesSkipShaper: boolean;
}

/**
 * Upstream cut: two decisions in a row delivered clearly less than our rate and fresh samples (sent
 * after the last cut) show a queue. What was delivered is the capacity (measured after the fall;
 * the window maximum of the general rule may still hold samples from before it). The rate goes to
 * `depth` of it or lower, enough to drain the queue the samples show within `drainS`. The level
 * before the fall is not recalled: a measured shortfall is not a dip. Further cuts at the floor
 * within the fall keep the level before it for the fast probe (`floorKeep`).
 */
export function upstreamCut(
  s: UpstreamState,
  x: UpstreamInput,
  p: UpstreamParams,
): number | undefined {
  if (!p.enabled || x.deltas.length === 0) return undefined;
  if (!(x.thr < p.cutLoad * x.cur)) return undefined;
  const trigger = x.threshold * x.triggerFraction;
  // No fall open: a queue grown past the one the general rule's last cut saw votes whenever its
  // probes left. That cut may have been the fall's first (its decision delivered most of the rate,
  // and an RTT already over the trigger, on a loaded machine, voted): the fall is opened here, so
  // the step up after it is still climbed fast (docs/controllers.md, "e2e25").
  const votes = countAboveSince(x.deltas, x.sent, {
    above: trigger,
    since: s.lastCutS,
    grown: p.grownVotes && !(s.fallCap > 0) ? s.lastCutQueueMs + trigger : undefined,
  });
  if (votes < Math.min(x.votes, x.deltas.length)) return undefined;
  // Two decisions in a row: one short counter interval (a late tick) reads low, then high.
  // The first holds the rate (no general cut either) until the next one confirms.
  if (!(x.prevThr < p.cutLoad * x.cur)) return x.cur;
  const queueS = secondLargest(x.deltas) / 1000;
  const factor = Math.max(p.maxDepth, Math.min(p.depth, 1 - queueS / p.drainS));
  // At the floor within a fall, the counters measure the link at the floor (an opposite queue
  // holding the ACKs, a dip below the floor), not a level to come back to: the level before the
  // fall stays what the fast probe climbs back to (docs/controllers.md, v43).
  const atFloor = s.fallCap > 0 && x.cur <= p.floorKeep * s.min;
  s.fallFrom = atFloor ? Math.max(s.fallFrom, s.cap) : s.cap;
  s.cap =
    s.recall =
    s.cutCap =
    s.fallCap =
      x.thr;
  s.capped = false;
  s.lastCutS = s.lastQueueS = x.now;
  s.lastCutRate = Math.max(s.min, Math.min(x.cur, x.thr * factor));
  return s.lastCutRate;
}

/**
 * Growth or standing cut: delivering (nearly) our whole rate while the samples show a queue
 * above the threshold that keeps growing for `growthS`, or that stands while the rate is near
 * the capacity the last cut measured. Our own FIFO's delay is bounded: filling it is a step,
 * flat afterwards. A queue that keeps growing is the bottleneck's, our rate just above its
 * capacity (within the few per cent the general rule lets pass as our own queue); one standing
 * near a measured capacity is the bottleneck's too (its senders' bursts). The rate goes a step
 * under what was delivered, never below `growthFloor` of it (of the measured capacity), so it
 * cannot spiral down on our own FIFO's delay.
 */
export function upstreamGrowthCut(
  s: UpstreamState,
  x: UpstreamInput,
  p: UpstreamParams,
): number | undefined {
  if (!p.enabled || x.deltas.length === 0) return undefined;
  if (!(x.slopeMsPerS > p.growthMsPerS)) s.growingSinceS = NaN;
  else if (Number.isNaN(s.growingSinceS)) s.growingSinceS = x.now;
  if (x.drainedVotes < Math.min(x.votes, x.deltas.length)) return undefined;
  const growing = x.now - s.growingSinceS >= p.growthS;
  // Standing near the capacity the last cut measured: the bottleneck's senders' bursts.
  // Before the first measure, near the estimate (docs/controllers.md, "e2e26").
  // Only where the probes skip our FIFO: a queue they see while we deliver our whole rate may
  // otherwise be that FIFO's, which a cut would lengthen.
  const near = s.cutCap > 0 ? s.cutCap : p.standingUnmeasured && x.probesSkipShaper ? s.cap : 0;
  const standing = near > 0 && x.cur > p.growthFloor * near * 1.01 &&
    x.cur < p.standingNear * near;
  if (!growing && !standing) return undefined;
  const measured = growing ? x.thr : near;
  const next = Math.max(p.growthFloor * measured, Math.min(x.cur, x.thr) * p.growthStep);
  if (!(next < x.cur)) return undefined;
  s.cap = Math.min(s.cap, x.thr);
  // A growing queue measured the capacity; a standing one keeps the measurement it is near.
  if (growing) s.cutCap = s.cap;
  s.recall = Math.min(s.recall, s.cap);
  s.lastCutS = s.lastQueueS = x.now;
  s.growingSinceS = NaN;
  s.lastCutRate = Math.max(s.min, next);
  return s.lastCutRate;
}

/**
 * Follow stop: above the regular target (climbing back or probing beyond the estimate), a
 * decision that delivered clearly less than the rate has found the bottleneck. Stop just under
 * what was delivered: that is the capacity now. The first such decision holds the rate and the
 * next one confirms it: one counter reading alone scatters (v74b, follow_confirm.ts).
 */
export function upstreamFollowStop(
  s: UpstreamState,
  x: UpstreamInput & { margin: number },
  p: UpstreamParams,
): number | undefined {
  if (!p.enabled) return undefined;
  // At the minimum rate there is nothing to stop (and the estimate may sit under it).
  const above = x.cur > s.min * 1.02 && x.cur > s.cap * x.margin * 1.02;
  const low = above && x.thr < p.stopLoad * x.cur;
  const verdict = followVerdict(s, x.now, { low, p: { confirmS: p.stopConfirmS } });
  if (verdict === "none") return undefined;
  if (verdict === "hold") return x.cur;
  s.cap = s.recall = s.cutCap = x.thr;
  s.lastQueueS = x.now;
  return Math.max(s.min, x.thr * x.margin);
}

/**
 * Guarded probe: the next rate of a climb, never more than `climb` above what the last decision
 * delivered (the counters catch an overshoot within a decision). At the general rule's speed,
 * except after a fall the counters measured (an upstream cut, until a cut finds the capacity
 * near the level before the fall; fall_measure.ts): then the speed
 * doubles every `probeDoubleS` without a queue up to `probeNearPerS`, and once the link delivers
 * more than `pass` times what that cut measured (the capacity has come back: a step up) it is
 * `probeMaxPerS` up to `fastUpTo` of the estimate before the fall (then gently again: a tbf rate
 * passes a few per cent more than it is set to, so the counters cannot see an overshoot near the
 * old level).
 */
export function upstreamProbe(
  s: UpstreamState,
  x: { cur: number; thr: number; dt: number; quietS: number; next: number },
  p: UpstreamParams,
): number {
  let next = x.next;
  // A later cut near the level before the fall found the capacity back: the fall is over; one
  // above the fall's measure but still far under that level refines the measure (v74a).
  updateFall(s, { pass: p.pass, fastUpTo: p.fastUpTo, refine: p.refineFall });
  if (s.fallCap > 0) {
    // Fast while far from the level before the fall, gently near it.
    const back = x.thr > p.pass * s.fallCap && x.cur < p.fastUpTo * s.fallFrom;
    const speed = back
      ? p.probeMaxPerS
      : Math.min(p.probeNearPerS, p.probePerS * 2 ** (x.quietS / p.probeDoubleS));
    next = Math.max(next, x.cur + s.cap * speed * x.dt);
  }
  return Math.min(next, Math.max(x.cur, x.thr * p.climb));
}
