/**
 * A reflector whose baseline was taken inside a standing queue (docs/controllers.md, "v73"). The
 * baseliner starts a reflector's baseline from its first sample; a reflector drawn by a
 * reselection while our link holds a queue of Q ms takes that queue into its baseline, reads
 * about 0 ms while the others read Q, and its replies look like a drain (`drain.ts`): a queue
 * taken as gone while it stands. The others' view at that moment says how far off the new
 * baseline is: the new reflector's deltas get that queue back until its own baseline has fallen
 * by as much (the queue drained and the baseliner's minimum found the path's floor) or
 * `maxAgeS` passed.
 */
import type { OwdEntry, OwdState } from "../control/ports.ts";
import type { SampleView } from "./sample_view.ts";
import { median } from "../util/stats.ts";
import { LATE_DEFAULTS } from "../control/late_reflectors.ts";
import { STALE_GAP_S } from "../baseline/baseliner.ts";

/** Constants of the rule. */
export interface JoinedParams {
  /** A baseline counts as new when its reflector gave no sample for longer than this (the baseliner's stale gap), s. */
  staleGapS: number;
  /** A reflector counts as established once its baseline is this old, s. */
  establishedS: number;
  /** The correction ends after this long, s. */
  maxAgeS: number;
  /**
   * A baseline begun while the established peers' round-trip delay shows at least this is
   * corrected (v66's standing queue: lte's native queues under load, 100–200 ms, are left alone), ms.
   */
  standingMs: number;
  /** The established peers' samples received within this show the queue, s. */
  recentS: number;
  /** Forget a reflector not seen for this long, s (beyond `staleGapS`). */
  forgetS: number;
}

/** Defaults (docs/controllers.md, "v73"). */
export const JOINED_DEFAULTS: Readonly<JoinedParams> = {
  staleGapS: STALE_GAP_S,
  establishedS: 2,
  maxAgeS: 30,
  recentS: 1,
  standingMs: LATE_DEFAULTS.minDelayMs,
  forgetS: 60,
};

/** One reflector's record. */
interface Joined {
  /** When its current baseline began (its first sample after a gap), s. */
  sinceS: number;
  /** Receive time of its last sample seen, s. */
  lastAt: number;
  /** The queue the established reflectors showed when it began, per direction, ms (0: none). */
  offDl: number;
  offUl: number;
  /** Its baseline when it began, ms. */
  baseDl: number;
  baseUl: number;
}

/**
 * Follows when each peer's baseline began and, for a baseline begun while the established
 * peers showed a standing queue (`standingMs`), adds that queue back to the peer's deltas in a
 * `SampleView`, until they show none (under `clearMs` each way).
 */
export class JoinedBaseline {
  readonly #p: JoinedParams;
  readonly #by = new Map<string, Joined>();
  #lastForgetS = -Infinity;
  /** Some record carries a correction. */
  #corrected = false;

  /** `p` defaults to `JOINED_DEFAULTS`. */
  constructor(p: Readonly<JoinedParams> = JOINED_DEFAULTS) {
    this.#p = p;
  }

  /** The correction in force for `ip`'s download and upload deltas, ms (tests). */
  offset(ip: string, owd: OwdState): { dl: number; ul: number } {
    const j = this.#by.get(ip);
    const base = owd.baseline.get(ip);
    if (j === undefined || base === undefined) return { dl: 0, ul: 0 };
    return {
      dl: remaining(j.offDl, j.baseDl, base.down_ewma),
      ul: remaining(j.offUl, j.baseUl, base.up_ewma),
    };
  }

  /**
   * Notes the peers whose baseline began since the last call (a standing queue shown by the
   * established peers is recorded with them) and corrects their deltas in `view` in place;
   * `clearMs`: under this each way the established peers show no queue (the controller's trigger).
   */
  correct(view: SampleView, o: { owd: OwdState; now: number; clearMs: number }): void {
    const p = this.#p, owd = o.owd, raw = owd.latest ?? owd.recent;
    let fresh: Joined[] | undefined;
    for (let i = 0; i < owd.peers.length; i++) {
      const ip = owd.peers[i];
      const last = raw.get(ip);
      const base = owd.baseline.get(ip);
      if (last === undefined || base === undefined) continue;
      const j = this.#by.get(ip);
      if (j === undefined || last.last_receive_time_s - j.lastAt > p.staleGapS) {
        const n: Joined = {
          sinceS: last.last_receive_time_s,
          lastAt: last.last_receive_time_s,
          offDl: 0,
          offUl: 0,
          baseDl: base.down_ewma,
          baseUl: base.up_ewma,
        };
        this.#by.set(ip, n);
        (fresh ??= []).push(n);
      } else j.lastAt = last.last_receive_time_s;
    }
    if (o.now - this.#lastForgetS > p.forgetS) {
      this.#lastForgetS = o.now;
      for (const [ip, j] of this.#by) {
        if (o.now - j.lastAt > p.staleGapS + p.forgetS) this.#by.delete(ip);
      }
    }
    // Only while a baseline is new or corrected: most decisions have neither.
    if (fresh === undefined && !this.#corrected) return;
    const q = this.#queue(o);
    if (fresh !== undefined && q !== undefined) {
      for (const j of fresh) {
        if (q.dl + q.ul < this.#p.standingMs) continue;
        j.offDl = Math.max(0, q.dl);
        j.offUl = Math.max(0, q.ul);
        if (j.offDl > 0 || j.offUl > 0) this.#corrected = true;
      }
    }
    // The established peers show no queue: any baseline begun in one has fallen to the path's
    // floor by now, or was not taken in a queue (their last view predated its drain).
    if (q !== undefined && q.dl < o.clearMs && q.ul < o.clearMs) this.#clear();
    for (let i = 0; i < view.ip.length; i++) {
      const j = this.#by.get(view.ip[i]);
      if (j === undefined || (j.offDl === 0 && j.offUl === 0)) continue;
      if (o.now - j.sinceS > p.maxAgeS) {
        j.offDl = j.offUl = 0;
        continue;
      }
      const base = owd.baseline.get(view.ip[i]) as OwdEntry;
      view.dl[i] += remaining(j.offDl, j.baseDl, base.down_ewma);
      view.ul[i] += remaining(j.offUl, j.baseUl, base.up_ewma);
    }
  }

  /** Ends every correction. */
  #clear(): void {
    for (const j of this.#by.values()) j.offDl = j.offUl = 0;
    this.#corrected = false;
  }

  /**
   * The queue the established peers show: the median of the deltas of their last samples
   * received within `recentS` (their own corrections included), per direction; undefined when
   * none is that recent.
   */
  #queue(o: { owd: OwdState; now: number }): { dl: number; ul: number } | undefined {
    const owd = o.owd, raw = owd.latest ?? owd.recent;
    const dl: number[] = [], ul: number[] = [];
    for (let i = 0; i < owd.peers.length; i++) {
      const ip = owd.peers[i];
      const j = this.#by.get(ip);
      if (j === undefined || o.now - j.sinceS < this.#p.establishedS) continue;
      const last = raw.get(ip) as OwdEntry, base = owd.baseline.get(ip) as OwdEntry;
      if (o.now - last.last_receive_time_s > this.#p.recentS) continue;
      dl.push(last.down_ewma - base.down_ewma + remaining(j.offDl, j.baseDl, base.down_ewma));
      ul.push(last.up_ewma - base.up_ewma + remaining(j.offUl, j.baseUl, base.up_ewma));
    }
    if (dl.length === 0) return undefined;
    return { dl: median(dl), ul: median(ul) };
  }
}

/** What is left of `off` once the baseline fell from `base0` to `base` (0 to `off`). */
function remaining(off: number, base0: number, base: number): number {
  if (off === 0) return 0;
  return Math.min(off, Math.max(0, off - (base0 - base)));
}
