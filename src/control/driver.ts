/** Runs a control loop periodically in real time until an AbortSignal fires. */
import type { Logger } from "../log/logger.ts";
import { type Clock, realSleep, type Sleep } from "../util/clock.ts";
import { stageLogger } from "../log/mod.ts";
import type { ControlLoop, TickResult } from "./loop.ts";
import { OverrunLog } from "./overrun_log.ts";

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
 * Ticks `loop` every `intervalS` on a fixed schedule (no drift); a tick that overruns is followed
 * by the next at once, and the schedule restarts from there instead of bursting to catch up
 * (docs/controllers.md, "v87"); overruns in a row are logged (`OverrunLog`). An unexpected error
 * in a tick is logged and the loop goes on.
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
  const overruns = new OverrunLog(log);
  while (!stopped) {
    const wait = due - now;
    if (wait > 0) await sleep(wait * 1000, signal);
    if (stopped) break;
    // The tick starts when the sleep ends (at `due`), or at once after an overrun.
    const startS = wait > 0 ? due : now;
    try {
      const result = await loop.tick();
      now = clock.monotonicS();
      options.onTick?.(result, now);
    } catch (e) {
      now = clock.monotonicS();
      log.error("control tick failed: {error}", { error: String(e) });
    }
    const intervalS = interval();
    overruns.tick(now - startS, intervalS);
    due += intervalS;
    // Overrun: the next tick now, not a whole interval after this one's end (a remote tick of
    // 160 ms then decides every 160 ms, not every 260: docs/controllers.md, "v87").
    if (due <= now) due = now;
  }
}
