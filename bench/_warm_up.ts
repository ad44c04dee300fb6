/**
 * A measured window that starts after a warm-up of the same work: with `--warm-up S` the footprint
 * bench's load window begins S seconds into one continuous load, past the first minutes in which
 * `capacity`'s rate changes grow (docs/footprint.md, "Twenty-ninth session").
 */

/** Options of {@linkcode afterWarmUp}. */
export interface WarmUpOptions {
  /** How long the work runs before the window, s (0: the window starts with it). */
  readonly warmUpS: number;
  /** Waits `ms` (default a timer; tests pass their own). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Lets `work` run for the warm-up, then returns what is left of it for the window to measure.
 * Throws if the work ended (or failed) during the warm-up: a window after it would measure no
 * work at all.
 */
export async function afterWarmUp<T>(
  work: Promise<T>,
  options: WarmUpOptions,
): Promise<{ rest: Promise<T> }> {
  if (options.warmUpS <= 0) return { rest: work };
  const sleep = options.sleep ??
    ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const ended = Symbol("ended");
  const first = await Promise.race([
    work.then(() => ended, () => ended),
    sleep(options.warmUpS * 1000).then(() => undefined),
  ]);
  if (first === ended) {
    await work; // rethrows its failure
    throw new Error(`the work ended within its ${options.warmUpS} s warm-up`);
  }
  return { rest: work };
}
