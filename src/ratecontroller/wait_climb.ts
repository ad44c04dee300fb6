/**
 * The waiting direction's climb (v51, docs/controllers.md "v51"). RTT only with both directions
 * busy, one direction probes beyond its estimate at a time (the turn, capacity.ts) and the other
 * waits at `yieldFraction` of its estimate. On `lte` that wait cost 5.2 (download) / 3.6 (upload)
 * points of utilisation (v49): a direction whose estimate cuts (often a bystander's) took far under
 * what it carried without a queue a little earlier waits there for the other's whole turn. A
 * waiting direction climbs gently all the same, while the RTT shows no queue, at most up to
 * `fraction` of the most it delivered without a queue within `windowS` (its whole rate delivered,
 * no rise blamed on it). Gated on the RTT being clear: without it a climb toward a level the link
 * no longer carries (`starlink`'s handovers, `cable-evening`'s sag) cost p95 and utilisation there.
 *
 * v52 (docs/controllers.md "v52"): on a link that faded below its floor lately (a deep dip,
 * deep_dip.ts) and under sustained two-way load, the direction holding the turn climbs the same
 * way, faster: its own probe climbs at 1 %/s of an estimate that bystander cuts took down, and
 * restarts at every rise of the other direction's queue.
 */
import { TimedMax } from "./timed_max.ts";

/** Tunables (docs/controllers.md measured them over seeds 1–300). */
export interface WaitClimbParams {
  /** What the direction carried without a queue counts for this long, s; 0: off. */
  windowS: number;
  /** The climb stops at this fraction of that peak. */
  fraction: number;
  /** Climb speed, fraction of that peak per s. */
  perS: number;
  /** Only in a decision whose RTT shows no queue. */
  onlyClear: boolean;
  /**
   * The direction holding the probing turn climbs toward the same level at this speed, fraction of
   * the peak per s (v52; 0: off) ...
   */
  holderPerS: number;
  /** ... within this long of a deep dip confirmed in either direction (deep_dip.ts), s ... */
  holderDipS: number;
  /** ... with neither direction lightly loaded within this long, s (not `bursty`'s bursts). */
  holderBusyS: number;
}

/** The measured defaults. */
export const WAIT_CLIMB_DEFAULTS: Readonly<WaitClimbParams> = {
  windowS: 30,
  fraction: 0.9,
  perS: 0.05,
  onlyClear: true,
  holderPerS: 0.1,
  holderDipS: 120,
  holderBusyS: 8,
};

/**
 * Whether the direction holding the probing turn climbs too (v52; RTT only with both directions
 * busy, capacity.ts): the rule is on, a deep dip was confirmed in either direction within
 * `holderDipS` (`sinceDipS`: the time since the latest), and neither direction was lightly loaded
 * within `holderBusyS` (`busyS`: the shorter of the two busy spells).
 */
export function holderClimbs(p: WaitClimbParams, x: { sinceDipS: number; busyS: number }): boolean {
  return p.holderPerS > 0 && x.sinceDipS < p.holderDipS && x.busyS >= p.holderBusyS;
}

/** One direction's memory of what it carried without a queue. */
export class WaitClimb {
  /** The parameters in force. */
  readonly params: WaitClimbParams;
  readonly #clear = new TimedMax();

  /** `params` override the measured defaults. */
  constructor(params: Partial<WaitClimbParams> = {}) {
    this.params = { ...WAIT_CLIMB_DEFAULTS, ...params };
  }

  /** Notes a decision that delivered `kbit`, the direction's whole rate, without a queue. */
  noteClear(now: number, kbit: number): void {
    if (!(this.params.windowS > 0)) return;
    this.#clear.push(now, kbit, this.params.windowS);
  }

  /** The most delivered without a queue within `windowS` before `now`, kbit/s (0: none). */
  peak(now: number): number {
    return this.#clear.maxSince(now - this.params.windowS);
  }

  /**
   * The rate a waiting direction at `cur` may reach by its own climb in a decision of `dt` s
   * (kbit/s), or `undefined` when it may not climb: the rule is off, the RTT shows a queue
   * (`clear` false, with `onlyClear`), or `cur` is at or above `fraction` of the peak. `perS`:
   * the speed, if not the waiting direction's (the turn holder's, v52).
   */
  climb(
    now: number,
    x: { cur: number; dt: number; clear: boolean; perS?: number },
  ): number | undefined {
    const p = this.params;
    if (!(p.windowS > 0) || (p.onlyClear && !x.clear)) return undefined;
    const peak = this.peak(now);
    const limit = p.fraction * peak;
    if (!(x.cur < limit)) return undefined;
    return Math.min(limit, x.cur + peak * (x.perS ?? p.perS) * x.dt);
  }
}
