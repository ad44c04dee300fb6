/**
 * Learned recurrence of capacity collapses (docs/controllers.md, v28): the capacity controller
 * notes the onset of each collapse it sees (a sudden large queue) and, when its own history shows
 * them at a stable period, predicts the next one. It never sees the link's schedule: only the
 * onsets it noted. With no stable period it predicts nothing (the off-state).
 */

/** Tunables of the period search. */
export interface RecurrenceParams {
  /** Onsets closer than this to the previous one are the same collapse, s. */
  mergeS: number;
  /** Shortest period looked for, s. */
  minPeriodS: number;
  /** Longest period looked for, s. */
  maxPeriodS: number;
  /** An earlier onset fits the period when within this of a whole number of periods back, s. */
  toleranceS: number;
  /** Earlier onsets that must fit before a period is trusted. */
  fits: number;
  /** Onsets kept for the search (the newest one and the ones it is checked against). */
  keep: number;
  /** Onsets fit at most this many periods back (a collapse while idle goes unseen). */
  maxSpan: number;
  /** A prediction stays valid this many periods after the last noted onset. */
  horizon: number;
  /**
   * Quick trust (v30b): with no period in force, this many earlier onsets fitting within
   * `quickToleranceS` are enough; such a period is valid for one period only, until an onset on
   * its beat confirms it.
   */
  quickFits: number;
  /** The tolerance of quick trust, s. */
  quickToleranceS: number;
}

/** The measured defaults. */
export const RECURRENCE_DEFAULTS: Readonly<RecurrenceParams> = {
  mergeS: 2,
  minPeriodS: 4,
  maxPeriodS: 60,
  toleranceS: 0.3,
  fits: 4,
  keep: 6,
  maxSpan: 4,
  horizon: 4,
  quickFits: 3,
  quickToleranceS: 0.15,
};

/** Notes collapse onsets and predicts the next one when they recur at a stable period. */
export class Recurrence {
  readonly #p: RecurrenceParams;
  readonly #onsets: number[] = [];
  /** The trusted period (s), or NaN: none found (the off-state). */
  #periodS = NaN;
  /** The onset the trusted period was found at: predictions count periods from it (s). */
  #anchorS = NaN;
  /** The period was trusted quickly and not yet confirmed (v30b): valid for one period. */
  #quick = false;

  /** `params` override the measured defaults. */
  constructor(params: Partial<RecurrenceParams> = {}) {
    this.#p = { ...RECURRENCE_DEFAULTS, ...params };
  }

  /** The trusted period, s (NaN: none). */
  get periodS(): number {
    return this.#periodS;
  }

  /** Notes a collapse that began at `onsetS`; an onset within `mergeS` of the last is the same one. */
  note(onsetS: number): void {
    const last = this.#onsets.at(-1);
    if (last !== undefined && onsetS - last < this.#p.mergeS) return;
    this.#onsets.push(onsetS);
    if (this.#onsets.length > this.#p.keep) this.#onsets.shift();
    const found = this.#findPeriod(this.#p.fits, this.#p.toleranceS);
    if (!Number.isNaN(found)) {
      this.#trust(onsetS, { periodS: found, quick: false });
    } else if (this.#onBeat(onsetS)) {
      // On the beat of the period found before, after unseen collapses (too few fits): it
      // confirms that period, and moves its beat earlier, never later (see #earliestBeat).
      const k = Math.round((onsetS - this.#anchorS) / this.#periodS);
      this.#anchorS = Math.min(onsetS, this.#anchorS + k * this.#periodS);
      this.#quick = false;
    } else {
      // Off the beat (a collapse of another kind), the period found before stays as it was;
      // with none in force, a few onsets on a tight beat are trusted for one period (v30b).
      const quick = this.#inForce(onsetS)
        ? NaN
        : this.#findPeriod(this.#p.quickFits, this.#p.quickToleranceS);
      if (!Number.isNaN(quick)) this.#trust(onsetS, { periodS: quick, quick: true });
    }
  }

  /** Trusts `periodS`, its beat set from the onsets that fit it (see #earliestBeat). */
  #trust(newest: number, x: { periodS: number; quick: boolean }): void {
    this.#periodS = x.periodS;
    this.#quick = x.quick;
    this.#anchorS = this.#earliestBeat(newest, x.periodS);
  }

  /** Whether a period is in force at `t`: trusted, and its anchor within its horizon. */
  #inForce(t: number): boolean {
    return !Number.isNaN(this.#periodS) && (t - this.#anchorS) / this.#periodS <= this.#horizon();
  }

  /** Periods after its anchor for which a prediction holds: one until a quick trust is confirmed. */
  #horizon(): number {
    return this.#quick ? 1 : this.#p.horizon;
  }

  /**
   * The beat of the newest onset: the earliest of the onsets that fit `period`, each carried
   * forward by its whole number of periods. A collapse that a pre-emption answered builds its
   * queue later and is dated late, so the newest onset alone let the predictions drift later
   * until they came too late to answer (v30a, docs/controllers.md).
   */
  #earliestBeat(newest: number, period: number): number {
    let beat = newest;
    for (const o of this.#onsets) {
      const k = Math.round((newest - o) / period);
      if (k < 1 || k > this.#p.maxSpan) continue;
      const carried = o + k * period;
      if (Math.abs(newest - carried) <= this.#p.toleranceS && carried < beat) beat = carried;
    }
    return beat;
  }

  /**
   * Whether `t` lies within the tolerance (up to twice it before) of a whole number of trusted
   * periods after the anchor.
   */
  #onBeat(t: number): boolean {
    if (Number.isNaN(this.#periodS)) return false;
    const k = Math.round((t - this.#anchorS) / this.#periodS);
    // Early by up to twice the tolerance: a collapse that a pre-emption answered can only be
    // dated late, so one dated early shows that the beat itself is late (v30c).
    const off = t - this.#anchorS - k * this.#periodS;
    return k >= 1 && k <= this.#horizon() && off <= this.#p.toleranceS &&
      off >= -2 * this.#p.toleranceS;
  }

  /**
   * The latest onset, predicted or noted, at most `windowS` before `nowS`, or undefined: no
   * trusted period, none that recent, or the onset it was found at is more than `horizon`
   * periods old.
   */
  recent(nowS: number, windowS: number): number | undefined {
    const p = this.#periodS;
    if (Number.isNaN(p)) return undefined;
    const k = Math.floor((nowS - this.#anchorS) / p);
    if (k < 0 || k > this.#horizon()) return undefined;
    const at = this.#anchorS + k * p;
    return nowS - at <= windowS ? at : undefined;
  }

  /**
   * The predicted onset of the next collapse at or after `nowS - windowS` (so that a window
   * around it can still be in force), or undefined: no trusted period, or the onset it was
   * found at is more than `horizon` periods old.
   */
  next(nowS: number, windowS: number): number | undefined {
    const p = this.#periodS;
    const last = this.#anchorS;
    if (Number.isNaN(p)) return undefined;
    const k = Math.max(1, Math.ceil((nowS - windowS - last) / p));
    if (k > this.#horizon()) return undefined;
    return last + k * p;
  }

  /**
   * The period the newest onset agrees on with at least `fits` earlier ones: each candidate is
   * the time from an earlier onset to the newest; an earlier onset fits it when it lies within
   * `toleranceS` of a whole number (1..maxSpan) of periods before the newest. The candidate
   * with the most fits wins; its period is refined over them (least squares).
   */
  #findPeriod(need: number, toleranceS: number): number {
    const o = this.#onsets;
    const p = this.#p;
    const last = o[o.length - 1];
    let best = NaN, bestFits = 0;
    for (let j = 0; j < o.length - 1; j++) {
      const candidate = last - o[j];
      if (candidate < p.minPeriodS || candidate > p.maxPeriodS) continue;
      let fits = 0, kk = 0, kd = 0;
      for (let i = 0; i < o.length - 1; i++) {
        const back = last - o[i];
        const k = Math.round(back / candidate);
        if (k < 1 || k > p.maxSpan || Math.abs(back - k * candidate) > toleranceS) continue;
        fits++;
        kk += k * k;
        kd += k * back;
      }
      if (fits > bestFits) {
        bestFits = fits;
        best = kd / kk;
      }
    }
    return bestFits >= need ? best : NaN;
  }
}
