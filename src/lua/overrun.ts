/**
 * A call into Lua that returned, without a timeout error, long after `lua_time_limit_ms`: it was
 * held inside one C function (a pattern match with heavy backtracking, `string.rep`, a sort), where
 * the engine's instruction check cannot stop it (docs/plugins.md, "The sandbox"). Until the
 * thirtieth session nothing said so: `check-config` ran such a plugin's 30 s tick and printed
 * "configuration OK", and the daemon only logged that its ticks ran long.
 */
import type { Logger } from "../log/logger.ts";
import { logText } from "./log_text.ts";

/** A call counts as overrun past this multiple of the limit (the limit itself is checked often). */
export const OVERRUN_FACTOR = 2;

/**
 * The problem text when a call of `what` (e.g. `plugin x: process()`) took `elapsedMs` against a
 * limit of `limitMs`; undefined when it kept to twice the limit, or when the process's CPU time
 * over the call (`cpuMs`, when known) did.
 */
export function overrunProblem(
  what: string,
  call: { elapsedMs: number; limitMs: number; cpuMs?: number },
): string | undefined {
  const { elapsedMs, limitMs, cpuMs } = call;
  if (!(elapsedMs > OVERRUN_FACTOR * limitMs)) return undefined;
  // Held in C, the call computes all along: its CPU time is its wall time. A call whose process
  // used no more than twice the limit of CPU over it waited for a core (a router busy elsewhere, a
  // short call descheduled; the limit then fires in the bridge's own code): not held in C. The
  // reading is the process's (all threads), so a busy compiler or GC thread only makes it larger.
  if (cpuMs !== undefined && !(cpuMs > OVERRUN_FACTOR * limitMs)) return undefined;
  const took = elapsedMs >= 1000
    ? `${(elapsedMs / 1000).toFixed(1)} s`
    : `${Math.round(elapsedMs)} ms`;
  return `${what} took ${took}, past lua_time_limit_ms (${limitMs} ms), inside a C function the ` +
    "limit cannot stop (a pattern match, string.rep, a sort of a huge table): with lua_isolation " +
    "none the daemon waits for it every tick, with worker it is stopped and Lua restarts; " +
    'rewrite that call (docs/plugins.md, "The sandbox")';
}

/**
 * Reports the last call of `what` if it overran (`overrunProblem`): into `problems` while a check
 * collects them, else as one warning unless `warned` says one was logged. Returns the new `warned`.
 */
export function reportOverrun(
  what: string,
  call: {
    readonly lastCallMs: number;
    readonly timeLimitMs: number;
    readonly lastCallCpuMs?: number;
  },
  o: { problems: string[] | undefined; warned: boolean; logger: Logger },
): boolean {
  const problem = overrunProblem(what, {
    elapsedMs: call.lastCallMs,
    limitMs: call.timeLimitMs,
    cpuMs: call.lastCallCpuMs,
  });
  if (problem === undefined) return o.warned;
  if (o.problems !== undefined) o.problems.push(problem);
  else if (!o.warned) logText(o.logger, "warn", problem);
  return true;
}
