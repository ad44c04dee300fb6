/** Runs a control loop periodically in real time until an AbortSignal fires. */
import type { Logger } from "../log/logger.ts";
import { type Clock, realSleep, type Sleep } from "../util/clock.ts";
import { stageLogger } from "../log/mod.ts";
import type { ControlLoop, TickResult } from "./loop.ts";

/** Options of `runControlLoop`. */
export interface RunControlLoopOptions {
  /** Stops the loop (after the tick in progress). */
  signal: AbortSignal;
  /** Clock used for the schedule. */
  clock: Clock;
  /** Tick period in seconds (`min_change_interval`), or asked before each wait (idle mode). */
  intervalS: number | (() => number);
  /**
   * Sleep between ticks (default: real timers). The daemon passes a blocking one when nothing
   * else needs the thread (src/util/blocking_sleep.ts, docs/footprint.md).
   */
  sleep?: Sleep;
  /** Logger. */
  logger?: Logger;
  /** Called after every tick with its result and the clock's time (e.g. a periodic summary). */
  onTick?: (result: TickResult, nowS: number) => void;
}

/**
 * Ticks `loop` every `intervalS` on a fixed schedule (no drift); when a tick overruns, the
 * schedule restarts from now instead of bursting to catch up. An unexpected error in a tick
 * is logged and the loop goes on.
 */
export async function runControlLoop(
  loop: ControlLoop,
  options: RunControlLoopOptions,
): Promise<void> {
  const sleep = options.sleep ?? realSleep;
  const log = options.logger ?? stageLogger("control");
  const { clock, signal } = options;
  const interval = typeof options.intervalS === "number"
    ? () => options.intervalS as number
    : options.intervalS;
  // A flag instead of `signal.aborted` (a checked getter) at every turn: an idle tick has little
  // else to do (docs/footprint.md, "Idle CPU").
  let stopped = signal.aborted;
  signal.addEventListener("abort", () => stopped = true, { once: true });
  // One clock reading per tick, after it, serves the summary, the schedule and the next wait (a
  // reading is an op call, about 4,000 instructions in the interpreter; docs/footprint.md, "CPU
  // under load").
  let now = clock.monotonicS();
  let due = now + interval();
  while (!stopped) {
    const wait = due - now;
    if (wait > 0) await sleep(wait * 1000, signal);
    if (stopped) break;
    try {
      const result = await loop.tick();
      now = clock.monotonicS();
      options.onTick?.(result, now);
    } catch (e) {
      now = clock.monotonicS();
      log.error("control tick failed: {error}", { error: String(e) });
    }
    const intervalS = interval();
    due += intervalS;
    if (due <= now) due = now + intervalS;
  }
}
