/**
 * How uncertain a counter reading's moment is: the loop times each reading by the middle of its
 * read (docs/controllers.md, "v84"), which is off by at most half of what the read took beyond
 * the shortest recent read (a round trip's jitter over a slow management link: docs/controllers.md,
 * "v87"). A reading whose uncertainty is large against the time since the last one used is not
 * made the reference of the next load (docs/controllers.md, "v87"); how uncertain the reading a
 * load ends at is sets how far back it is measured from (src/control/load_span.ts, "v96", "v105").
 */

/** Reads the shortest is taken over. */
export const READ_SPAN_WINDOW = 100;
/** Largest uncertainty of a reading's moment decided on, as a share of the time it closes. */
export const READ_UNCERTAIN_SHARE = 0.025;
/** Longest time a decision waits for a reading certain enough, s. */
export const READ_WAIT_MAX_S = 1;

/** The recent reads' durations and the shortest of them. */
export class ReadSpan {
  readonly #spans = new Float64Array(READ_SPAN_WINDOW);
  #n = 0;
  #uncertainty = 0;

  /**
   * Records a read of `spanS` and says whether the reading, `sinceS` after the load's reference,
   * is too uncertain to become the next reference (`READ_UNCERTAIN_SHARE`; never once
   * `READ_WAIT_MAX_S` have passed). It is decided on either way.
   */
  tooUncertain(spanS: number, sinceS: number): boolean {
    this.#spans[this.#n++ % READ_SPAN_WINDOW] = spanS;
    let shortest = spanS;
    const n = Math.min(this.#n, READ_SPAN_WINDOW);
    for (let i = n - 1; i >= 0; i--) {
      if (this.#spans[i] < shortest) shortest = this.#spans[i];
    }
    this.#uncertainty = (spanS - shortest) / 2;
    return this.#uncertainty > READ_UNCERTAIN_SHARE * sinceS && sinceS < READ_WAIT_MAX_S;
  }

  /**
   * How uncertain the last recorded reading's moment is, s: half of what its read took beyond the
   * shortest recent read, the most its middle can be off. Its own, not the recent reads' mean
   * (v96 before): a slow spell of the management link lengthens the loads that end in it, and
   * widens what the change rule lets pass, at once, where a mean over the window lags it
   * (docs/controllers.md, "v105"). 0 for reads that take no time, as the simulator's exact reads.
   */
  uncertaintyS(): number {
    return this.#uncertainty;
  }
}
