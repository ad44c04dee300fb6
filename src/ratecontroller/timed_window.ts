/**
 * A direction's throughput over its last decisions, kept as a sequence: the capacity controller's
 * delivered window (docs/controllers.md), read for its maximum, its first and last entries and its
 * mean. The long windows whose maximum alone is read (v45d, v45w, v51) are TimedMax
 * (timed_max.ts), which answers as `pushTimed` and `maxSince` here do (its test checks it against
 * them).
 */

/** What one decision delivered, kbit/s, at `t` s. */
export interface RateSample {
  /** When, s (the controller's monotonic clock). */
  t: number;
  /** Delivered throughput, kbit/s. */
  kbit: number;
}

/**
 * Appends `sample` and drops the samples older than `spanS` before it, keeping at least `keep`
 * (the newest ones).
 */
export function pushTimed(
  window: RateSample[],
  sample: RateSample,
  x: { spanS: number; keep?: number },
): void {
  window.push(sample);
  const keep = x.keep ?? 0;
  while (window.length > keep && window[0].t < sample.t - x.spanS) window.shift();
}

/** The most of `window` at or after `sinceS`, kbit/s (0: none). */
export function maxSince(window: readonly RateSample[], sinceS = -Infinity): number {
  let max = 0;
  for (let i = 0; i < window.length; i++) {
    const e = window[i];
    if (e.t >= sinceS && e.kbit > max) max = e.kbit;
  }
  return max;
}
