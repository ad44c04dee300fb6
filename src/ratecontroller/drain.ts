/**
 * The drain after a deep dip (v36, docs/controllers.md): when the link's capacity comes back, the
 * probes that queued in the dip leave the FIFO together, in the order sent. A batch of replies
 * that arrives within a short time although its probes were sent far apart shows a queue draining
 * far faster than it filled: the capacity is well above our rate again. Those replies (and every
 * older one) show a queue that is gone: the return toward the level before the dip need not wait
 * for clear samples, and the hold after the last cut is over. Its spacing also measures the
 * capacity that drained it, a floor under the level the return aims at (v39).
 */

/** Tunables of the drain rule. */
export interface DrainParams {
  /** Replies received within this long of the newest one form the batch, s. */
  batchS: number;
  /** The batch's probes were sent at least this far apart (oldest to newest), s. */
  minSpanS: number;
  /**
   * The batch arrived within this fraction of its send spacing: the queue drained at least
   * 1 / (this) times as fast as it grew (a FIFO draining at capacity C while we send R has an RTT
   * falling by 1 − R / C per second of send time).
   */
  ratio: number;
  /** Fewest replies in the batch (one late reply is no drain). */
  minReplies: number;
  /**
   * The batch's newest-sent reply shows a queue at least this fraction smaller than its
   * oldest-sent one (v63, docs/controllers.md): the first batch of a 1–2 s queue's drain, at 1–2
   * Mbit/s, shows it fallen by 7–20 %, and a return started there keeps most of that queue
   * standing. Any batch of a queue under 0.45 s meets it (the arrival rule alone asks a fall of 0.6
   * × `minSpanS`, 90 ms). 0: off.
   */
  minFall: number;
  /**
   * A drain counts for a direction whose deep-dip candidate (deep_dip.ts: a cut that wanted a
   * rate under the minimum) is at least this old, or within a confirmed deep dip's memory; a drain
   * then also confirms the candidate, s. 0: the rule is off.
   */
  candidateS: number;
  /**
   * A batch also measures the capacity that drains it: a FIFO draining at C while R arrives
   * delivers the batch in R / C of its send spacing, so C ≈ our rate in force / (arrival span /
   * send span). This fraction of it (at most the base rate) lifts the level the return aims at,
   * per direction (v39, docs/controllers.md). 0: off.
   */
  levelFraction: { dl: number; ul: number };
  /** The arrival / send spacing taken as at least this (a batch that arrives at once), 0–1. */
  levelRatioFloor: number;
}

/** The measured defaults (docs/controllers.md, "v36", "v39", "v63"). */
export const DRAIN_DEFAULTS: Readonly<DrainParams> = {
  batchS: 0.15,
  minSpanS: 0.15,
  ratio: 0.4,
  minReplies: 3,
  minFall: 0.2,
  candidateS: 1,
  levelFraction: { dl: 0.7, ul: 0.4 },
  levelRatioFloor: 0.05,
};

/** The samples of one decision: queueing delay (ms), receive time and send time (s). */
export interface DrainSamples {
  deltas: readonly number[];
  at: readonly number[];
  sent: readonly number[];
}

/**
 * The drain batch among `x`, or undefined when the samples show none: among the replies received
 * within `batchS` of the newest one (at least `minReplies`), the oldest-sent and the newest-sent
 * were sent `minSpanS` or more apart and arrived within `ratio` of that spacing, and the newest-sent
 * shows the queue smaller by `minFall` of the oldest-sent's. Returns the send time of its
 * newest-sent reply and its arrival spacing over its send spacing.
 */
export function drainBatch(
  x: DrainSamples,
  p: DrainParams,
): { sent: number; ratio: number } | undefined {
  let newest = -Infinity;
  for (let i = 0; i < x.at.length; i++) newest = Math.max(newest, x.at[i]);
  let n = 0, oldestSent = -1, newestSent = -1;
  for (let i = 0; i < x.at.length; i++) {
    if (x.at[i] < newest - p.batchS) continue;
    n++;
    if (oldestSent < 0 || x.sent[i] < x.sent[oldestSent]) oldestSent = i;
    if (newestSent < 0 || x.sent[i] > x.sent[newestSent]) newestSent = i;
  }
  if (n < p.minReplies) return undefined;
  const span = x.sent[newestSent] - x.sent[oldestSent];
  if (span < p.minSpanS) return undefined;
  const arrival = x.at[newestSent] - x.at[oldestSent];
  if (arrival > p.ratio * span) return undefined;
  if (x.deltas[newestSent] > (1 - p.minFall) * x.deltas[oldestSent]) return undefined;
  return { sent: x.sent[newestSent], ratio: arrival / span };
}

/** One direction's drain state. */
export class Drain {
  readonly #p: DrainParams;
  /** Send time of the newest reply of the last drain batch: replies sent up to it are stale (s). */
  #sentS = -Infinity;
  /** When the last drain was seen (s). */
  #atS = -Infinity;
  /** The last batch's arrival spacing over its send spacing. */
  #ratio = 1;

  /** `params` override the measured defaults. */
  constructor(params: Partial<DrainParams> = {}) {
    this.#p = { ...DRAIN_DEFAULTS, ...params };
  }

  /** The tunables in force. */
  get params(): Readonly<DrainParams> {
    return this.#p;
  }

  /** Whether the rule is on. */
  get enabled(): boolean {
    return this.#p.candidateS > 0;
  }

  /**
   * Looks for a drain batch in this decision's samples (only called in a deep dip's context);
   * returns whether a new one was seen.
   */
  see(now: number, x: DrainSamples): boolean {
    const batch = drainBatch(x, this.#p);
    if (batch === undefined || batch.sent <= this.#sentS) return false;
    this.#sentS = batch.sent;
    this.#atS = now;
    this.#ratio = batch.ratio;
    return true;
  }

  /**
   * The capacity the last batch seen shows, for `rate` arriving while it drained (the rate in
   * force): `rate` / its arrival over send spacing (at least `levelRatioFloor`).
   */
  capacityShown(rate: number): number {
    return rate / Math.max(this.#ratio, this.#p.levelRatioFloor);
  }

  /**
   * The samples with every reply sent up to the last drain batch's newest one taken as clear
   * (the queue it shows has gone); the same array when none is.
   */
  fresh(deltas: readonly number[], sent: readonly number[]): readonly number[] {
    if (!sent.some((t, i) => t <= this.#sentS && deltas[i] > 0)) return deltas;
    return deltas.map((v, i) => (sent[i] <= this.#sentS ? Math.min(v, 0) : v));
  }

  /** Whether a drain was seen after the cut at `lastCutS`: the hold after that cut is over. */
  after(lastCutS: number): boolean {
    return this.#atS >= lastCutS;
  }
}
