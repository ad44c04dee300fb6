/**
 * THE order statistics of the project (daemon CLI, simulator metrics and traces, e2e harness,
 * benchmarks): one percentile definition, so figures from each are comparable.
 */

/**
 * Percentile `p` (0–100) of an ascending list by linear interpolation between the closest
 * ranks: position `(n − 1) · p / 100`, so p0 is the minimum, p100 the maximum and p50 the
 * median. `NaN` for an empty list. The list is not sorted here (callers with many values sort
 * once, e.g. a `Float64Array`).
 */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (n - 1) * Math.min(1, Math.max(0, p / 100));
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Percentile `p` (0–100) of `values` in any order (see `percentileOfSorted`); `NaN` if empty. */
export function percentile(values: readonly number[], p: number): number {
  return percentileOfSorted([...values].sort((a, b) => a - b), p);
}

/** Median: the 50th percentile (mean of the two middle values for an even count); throws if empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error("median of an empty list");
  return percentile(values, 50);
}

/** Arithmetic mean; `NaN` if empty. */
export function mean(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Lag-1 autocorrelation of a series (each value against the one before it); `NaN` if constant. */
export function lag1Autocorrelation(xs: readonly number[]): number {
  const m = mean(xs);
  let c0 = 0;
  let c1 = 0;
  for (let i = 0; i < xs.length; i++) {
    c0 += (xs[i] - m) ** 2;
    if (i > 0) c1 += (xs[i] - m) * (xs[i - 1] - m);
  }
  return c1 / c0;
}
