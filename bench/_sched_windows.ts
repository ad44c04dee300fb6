/**
 * A phase's schedstat time split into consecutive windows of a fixed length (the footprint
 * bench's `--windows S`): whether a daemon's CPU under load in the bench's first 30 s reads as it
 * does later in a long load (docs/footprint.md, "Twenty-ninth session").
 */
import { SchedWindow, type TreeSched } from "./_proc_usage.ts";

/** One window of a phase: from and to (s since the phase began) and the tree's time in it. */
export interface TimedWindow {
  readonly fromS: number;
  readonly toS: number;
  readonly win: SchedWindow;
}

/**
 * Snapshots of one tree, taken every so often, summed per window: each window's boundaries fall
 * at the first snapshot at or after a multiple of the period, and the snapshot that ends one
 * window starts the next (no time lost or counted twice between windows; within one, a replaced
 * child counts as in `SchedWindow`).
 */
export class SchedWindows {
  readonly #periodS: number;
  readonly #closed: TimedWindow[] = [];
  #current: SchedWindow;
  #fromS = 0;
  #lastS = 0;

  /**
   * @param start The tree at the phase's start (time 0).
   * @param options `periodS`: each window's length, s.
   */
  constructor(start: TreeSched, options: { periodS: number }) {
    if (!(options.periodS > 0)) throw new Error(`window length must be > 0: ${options.periodS}`);
    this.#periodS = options.periodS;
    this.#current = new SchedWindow(start);
  }

  /** Takes in a later snapshot, `atS` s after the phase's start. */
  add(now: TreeSched, atS: number): void {
    this.#current.add(now);
    this.#lastS = atS;
    // The next boundary: the first multiple of the period after the current window's start.
    const boundary = (Math.floor(this.#fromS / this.#periodS + 1e-9) + 1) * this.#periodS;
    if (atS < boundary - 1e-9) return;
    this.#closed.push({ fromS: this.#fromS, toS: atS, win: this.#current });
    this.#current = new SchedWindow(now);
    this.#fromS = atS;
  }

  /**
   * Every window: the closed ones, then the one still open if a snapshot was added after it
   * began (shorter than the period).
   */
  windows(): TimedWindow[] {
    const open = this.#lastS > this.#fromS
      ? [{ fromS: this.#fromS, toS: this.#lastS, win: this.#current }]
      : [];
    return [...this.#closed, ...open];
  }
}

/**
 * A window's time as ms of CPU a second, all processes and per command name, with each command's
 * wake-ups (slices) a second.
 */
export function windowMsPerS(
  w: TimedWindow,
): { all: number; byComm: Map<string, { ms: number; wakeUps: number }> } {
  const s = w.toS - w.fromS;
  const byComm = new Map(
    [...w.win.byComm()].map(([c, [ns, n]]) => [c, { ms: ns / 1e6 / s, wakeUps: n / s }]),
  );
  return { all: w.win.runNs / 1e6 / s, byComm };
}
