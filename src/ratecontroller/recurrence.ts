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
};

/** Notes collapse onsets and predicts the next one when they recur at a stable period. */
export class Recurrence {
  readonly #p: RecurrenceParams;
  readonly #onsets: number[] = [];
  /** The trusted period (s), or NaN: none found (the off-state). */
  #periodS = NaN;
  /** The onset the trusted period was found at: predictions count periods from it (s). */
  #anchorS = NaN;

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
    const period = this.#findPeriod();
    if (!Number.isNaN(period)) {
      this.#periodS = period;
      this.#anchorS = onsetS;
    } else if (this.#onBeat(onsetS)) {
      // On the beat of the period found before, after unseen collapses (too few fits): it
      // confirms that period.
      this.#anchorS = onsetS;
    }
    // Off the beat (a collapse of another kind), the period found before stays as it was.
  }

  /** Whether `t` lies within the tolerance of a whole number of trusted periods after the anchor. */
  #onBeat(t: number): boolean {
    if (Number.isNaN(this.#periodS)) return false;
    const k = Math.round((t - this.#anchorS) / this.#periodS);
    return k >= 1 && k <= this.#p.horizon &&
      Math.abs(t - this.#anchorS - k * this.#periodS) <= this.#p.toleranceS;
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
    if (k < 0 || k > this.#p.horizon) return undefined;
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
    if (k > this.#p.horizon) return undefined;
    return last + k * p;
  }

  /**
   * The period the newest onset agrees on with at least `fits` earlier ones: each candidate is
   * the time from an earlier onset to the newest; an earlier onset fits it when it lies within
   * the tolerance of a whole number (1..maxSpan) of periods before the newest. The candidate
   * with the most fits wins; its period is refined over them (least squares).
   */
  #findPeriod(): number {
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
        if (k < 1 || k > p.maxSpan || Math.abs(back - k * candidate) > p.toleranceS) continue;
        fits++;
        kk += k * k;
        kd += k * back;
      }
      if (fits > bestFits) {
        bestFits = fits;
        best = kd / kk;
      }
    }
    return bestFits >= p.fits ? best : NaN;
  }
}
