/**
 * Counts of events (probes sent) per time window: issue 11's "at most 20 probes a second" checked
 * on a list of send times (docs/controllers.md, "v86").
 */

/**
 * The most of `times` (s, ascending) within any window `[t, t + widthS)`: the sliding count,
 * whatever second the window starts in. 0 for none.
 */
export function mostInWindow(times: readonly number[], widthS: number): number {
  let most = 0;
  let end = 0;
  for (let start = 0; start < times.length; start++) {
    if (end < start) end = start;
    while (end < times.length && times[end] < times[start] + widthS) end++;
    most = Math.max(most, end - start);
  }
  return most;
}

/** The most of `times` (s) within one whole second (from one integer second to the next). */
export function mostPerWholeSecond(times: readonly number[]): number {
  const per = new Map<number, number>();
  for (const t of times) per.set(Math.floor(t), (per.get(Math.floor(t)) ?? 0) + 1);
  return Math.max(0, ...per.values());
}

/**
 * The windows `[t, t + widthS)` of `times` (s, ascending) that hold more than `limit`, each as
 * its first time and its count, one per run of overlapping ones (the fullest): where a limit was
 * broken, for a report.
 */
export function windowsOver(
  times: readonly number[],
  o: { widthS: number; limit: number },
): { startS: number; count: number }[] {
  const out: { startS: number; count: number }[] = [];
  let end = 0;
  for (let start = 0; start < times.length; start++) {
    if (end < start) end = start;
    while (end < times.length && times[end] < times[start] + o.widthS) end++;
    const count = end - start;
    if (count <= o.limit) continue;
    const last = out.at(-1);
    if (last !== undefined && times[start] < last.startS + o.widthS) {
      if (count > last.count) out[out.length - 1] = { startS: times[start], count };
    } else out.push({ startS: times[start], count });
  }
  return out;
}
