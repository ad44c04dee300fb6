/**
 * Waiting without the event loop, for the idle daemon (docs/footprint.md, "Idle CPU").
 *
 * Each time the daemon's thread wakes costs CPU however little it then does, and an idle tick has
 * little else to do, so wake-ups are a large part of the idle CPU. A timer (`setTimeout`) wakes the thread twice: the runtime's
 * timer wheel keeps a deadline more than 64 ms away in a coarse slot and wakes at the start of that
 * slot to move it to a finer one, then once more at the deadline. A thread blocked in
 * `Atomics.wait` wakes once, at the deadline. While it is blocked nothing else on the thread runs:
 * I/O, signals and timers wait until it returns (a SIGTERM is handled at the end of the wait, at
 * most 1 s later).
 */
import type { Sleep } from "./clock.ts";
import { realSleep } from "./clock.ts";

/** Blocks the calling thread for `ms` milliseconds (one wake-up; never for less than 0). */
export type BlockThread = (ms: number) => void;

const cell = new Int32Array(new SharedArrayBuffer(4));

/** The real blocking wait: `Atomics.wait` on a cell nobody notifies, so it times out. */
export const blockThread: BlockThread = (ms) => {
  if (ms > 0) Atomics.wait(cell, 0, 0, ms);
};

/**
 * Longest wait that blocks, ms. A longer one (`min_change_interval` above 1 s) goes to the timer:
 * cut into blocks with turns of the event loop between them it would wake more often than a timer
 * does, and a shutdown signal would wait longer.
 */
export const MAX_BLOCK_MS = 1000;

/** Options of {@linkcode blockingSleep}. */
export interface BlockingSleepOptions {
  /** Blocks the thread (default {@linkcode blockThread}); tests record instead. */
  block?: BlockThread;
  /** The sleep for longer waits (default: the timer, `realSleep`). */
  longSleep?: Sleep;
  /** Longest wait that blocks, ms (default {@linkcode MAX_BLOCK_MS}). */
  maxBlockMs?: number;
  /**
   * Asked before each wait: true while work begun on the thread needs turns of the event loop to
   * finish (a pinger switch: the old child's exit, its streams' end, the next spawn); that wait
   * then goes to the timer, so the work completes during it instead of at the next tick's turns
   * (docs/footprint.md, "Nineteenth session: a pinger switch within its tick"). Default: never.
   */
  needsTurns?: () => boolean;
}

/**
 * A {@linkcode Sleep} that blocks the thread instead of arming a timer: one wake-up instead of two.
 * Only for a thread that has nothing else to do meanwhile (the idle control loop without a metrics
 * listener or MQTT publisher); signals and I/O are handled when it returns. Waits longer than
 * `maxBlockMs` use the timer, as do waits while `needsTurns` says so. Returns at once when
 * `signal` has fired.
 */
export function blockingSleep(options: BlockingSleepOptions = {}): Sleep {
  const block = options.block ?? blockThread;
  const longSleep = options.longSleep ?? realSleep;
  const maxBlockMs = options.maxBlockMs ?? MAX_BLOCK_MS;
  const needsTurns = options.needsTurns;
  return (ms, signal) => {
    if (signal?.aborted === true || ms <= 0) return Promise.resolve();
    if (ms > maxBlockMs || needsTurns?.() === true) return longSleep(ms, signal);
    block(ms);
    return Promise.resolve();
  };
}
