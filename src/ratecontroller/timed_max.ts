/**
 * The most a direction delivered within a window of the last seconds, answered without scanning
 * the window: the capacity controller keeps several such windows per direction (the wait's climb,
 * v51; the bystander's peak, v45d; the upload ceiling's clear deliveries, v45w) and reads them in
 * most decisions, while a 30 s window holds up to 300 decisions (docs/footprint.md, "v57").
 *
 * It answers as `pushTimed` and `maxSince` over the whole window would (timed_window.ts), for
 * times that never decrease: a sample followed by a later one at least as large can never be the
 * most again, so only the others are kept (a monotonic max-deque: times increasing, values
 * decreasing), and the most since a time is the first kept sample at or after it.
 */
export class TimedMax {
  /** Kept samples' times, s, oldest first, from `#head` on. */
  readonly #t: number[] = [];
  /** Their values, kbit/s (at least 0), strictly decreasing from `#head` on. */
  readonly #kbit: number[] = [];
  /** The first kept sample: expiry moves it on instead of shifting the arrays. */
  #head = 0;

  /**
   * Adds `kbit` at `t` s (not before the last sample) and forgets the samples older than `spanS`
   * before it.
   */
  push(t: number, kbit: number, spanS: number): void {
    // `maxSince` over the window counts only values above 0 (NaN never is): as 0 here.
    const v = kbit > 0 ? kbit : 0;
    const times = this.#t, values = this.#kbit;
    while (values.length > this.#head && values[values.length - 1] <= v) {
      values.pop();
      times.pop();
    }
    times.push(t);
    values.push(v);
    const cutoff = t - spanS;
    while (this.#head < times.length && times[this.#head] < cutoff) this.#head++;
    // Drop the expired slots now and then, so the arrays stay as short as the window.
    if (this.#head >= 32 && 2 * this.#head >= times.length) {
      times.copyWithin(0, this.#head);
      values.copyWithin(0, this.#head);
      times.length -= this.#head;
      values.length -= this.#head;
      this.#head = 0;
    }
  }

  /** The most at or after `sinceS`, kbit/s (0: none, or none above 0). */
  maxSince(sinceS: number): number {
    const times = this.#t;
    for (let i = this.#head; i < times.length; i++) if (times[i] >= sinceS) return this.#kbit[i];
    return 0;
  }

  /** Forgets every sample. */
  clear(): void {
    this.#t.length = 0;
    this.#kbit.length = 0;
    this.#head = 0;
  }
}
