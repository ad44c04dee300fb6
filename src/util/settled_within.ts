/**
 * Whether `p` settles (resolves or rejects) within `ms`; the timer is cleared either way, so a
 * settled race leaves nothing to keep the event loop alive. Used where a shutdown step gets a
 * budget: a child's exit, the exit rate, the changes still queued for `tc`.
 */
export async function settledWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p.then(() => true, () => true),
      new Promise<boolean>((r) => timer = setTimeout(() => r(false), ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
