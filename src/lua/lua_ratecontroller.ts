/**
 * A ratecontroller written in Lua: the script's `calculate(data)` decides each tick's rates.
 * Start-up problems are fatal (the daemon cannot run without a controller); a failing tick
 * gives the minimum rates for that tick and the loop goes on.
 */
import type {
  Ratecontroller,
  RatecontrollerContext,
  RateDecision,
  TickInput,
} from "../control/ratecontroller_port.ts";
import {
  controllerArgs,
  controllerConstants,
  decodeControllerResults,
  decodeHistory,
} from "./bridge.ts";
import { LuaError } from "./errors.ts";
import { LuaRatecontrollerError } from "./errors.ts";
import { FailureLog } from "./failure_log.ts";
import { reportOverrun } from "./overrun.ts";
import type { LuaSandbox } from "./engine.ts";
import { type LuaRuntime, type PluginSections, startRuntime } from "./runtime.ts";
import { logText } from "./log_text.ts";
import { resolveScript } from "./scripts.ts";

/** Options of {@link createLuaRatecontroller}. */
export interface LuaRatecontrollerOptions {
  /** Script reference; default `context.settings.rate_controller`. */
  script?: string;
  /** Reads script files. Default: `Deno.readTextFile`. */
  readTextFile?: (path: string) => Promise<string>;
  /** UCI sections for `settings.plugin(name)`. */
  pluginSections?: PluginSections;
}

export { LuaRatecontrollerError };

/** The controller {@link createLuaRatecontroller} builds. */
export class LuaRatecontroller implements Ratecontroller {
  /** Display name: the module's `name`, else the script. */
  readonly name: string;
  /** The script as it was found: its path, or `builtin:<name>`. */
  readonly script: string;
  readonly #rt: LuaRuntime;
  readonly #context: RatecontrollerContext;
  readonly #failures: FailureLog;
  /** While {@link checkTick} runs: the problems of the tick. */
  #problems: string[] | undefined;
  /** A call past the time limit held in C was logged (once). */
  #overranLogged = false;
  /** A rate that looked like Mbit/s was logged (once). */
  #unitWarned = false;

  /** Use {@link createLuaRatecontroller}. */
  constructor(rt: LuaRuntime, context: RatecontrollerContext, display: string, name: string) {
    this.#rt = rt;
    this.#context = context;
    this.script = display;
    this.name = name;
    this.#failures = new FailureLog({
      logger: context.logger,
      nowS: () => context.clock.monotonicS(),
    });
  }

  /**
   * Runs one tick through `calculate(data)` (as `decide`, which logs) and returns its problems:
   * a failure with file:line, a result that is not a table, or rates that were ignored. For
   * `check-config`.
   */
  checkTick(input: TickInput): string[] {
    this.#problems = [];
    try {
      this.decide(input);
      return this.#problems;
    } finally {
      this.#problems = undefined;
    }
  }

  /**
   * Calls the script's `calculate(data)`. A table result gives the rates (a missing or invalid
   * rate holds that direction); `nil` holds both; any other result, an error, a timeout or the
   * memory cap gives the minimum rates for this tick (docs/plugins.md).
   */
  decide(input: TickInput): RateDecision {
    const { sandbox, fns } = this.#rt;
    const { settings } = this.#context;
    const minimum = { next_dl_rate: settings.min_dl_rate, next_ul_rate: settings.min_ul_rate };
    const r = input.readings;
    const hold = { next_dl_rate: r.cur_dl_rate, next_ul_rate: r.cur_ul_rate };
    let raw;
    try {
      raw = sandbox.call(fns.ctrl_calculate, controllerArgs(input), 4);
      this.#overrun(sandbox);
    } catch (e) {
      // A timeout raised only after a long C call returned names the code after it: say why.
      this.#overrun(sandbox);
      const kind = e instanceof LuaError ? e.kind : "error";
      this.#problems?.push(
        `${this.script}: calculate() failed (${kind}): ${(e as Error).message}`,
      );
      this.#failures.failure(
        `${this.script}: calculate() failed (${kind}); minimum rates`,
        (e as Error).message,
      );
      return minimum;
    }
    if (raw[0] === "<nil>") {
      this.#failures.success(`${this.script}: calculate()`);
      return hold;
    }
    const res = decodeControllerResults(this.script, raw);
    if (res.warnings.length > 0) this.#problems?.push(...res.warnings);
    if (raw[0] !== true) {
      this.#failures.failure(
        `${this.script}: calculate() failed (result); minimum rates`,
        res.warnings.join("; "),
      );
      return minimum;
    }
    this.#failures.success(`${this.script}: calculate()`);
    const warning = res.warnings.join("; ");
    if (warning !== "") this.#failures.warning(`${this.script}: calculate()`, warning);
    const decision: RateDecision = {
      // A missing or invalid value holds that direction's current rate.
      next_dl_rate: res.next_dl_rate ?? hold.next_dl_rate,
      next_ul_rate: res.next_ul_rate ?? hold.next_ul_rate,
    };
    if (res.reselect) {
      decision.reselect = true;
    }
    this.#unitCheck("next_dl_rate", res.next_dl_rate, settings.base_dl_rate);
    this.#unitCheck("next_ul_rate", res.next_ul_rate, settings.base_ul_rate);
    return decision;
  }

  /**
   * A rate of 1 % of the base rate or less is a rate in Mbit/s (`next_dl_rate = 80`): the loop
   * bounds it to the minimum, which without a word looked like a controller that only ever cut
   * (seen in the thirtieth session's walk). Warned once; a problem for check-config.
   */
  #unitCheck(key: string, value: number | undefined, base: number): void {
    if (value === undefined || !(value > 0 && value * 100 <= base)) return;
    const text = `${this.script}: calculate() returned ${key} = ${value}, 1 % of the base rate ` +
      `${base} kbit/s or less: rates are in kbit/s (80 Mbit/s is 80000); the loop applies the ` +
      "minimum";
    this.#problems?.push(text);
    if (this.#problems === undefined && !this.#unitWarned) {
      logText(this.#context.logger, "warn", text);
    }
    this.#unitWarned = true;
  }

  /** A call held in C past the limit: a problem for check-config, else one warning. */
  #overrun(sandbox: LuaSandbox): void {
    this.#overranLogged = reportOverrun(`${this.script}: calculate()`, sandbox, {
      problems: this.#problems,
      warned: this.#overranLogged,
      logger: this.#context.logger,
    });
  }

  /** The script's `speed_history()` rings, or empty lists when it keeps none. */
  speedHistory(): { up: readonly number[]; down: readonly number[] } {
    try {
      const raw = this.#rt.sandbox.call(this.#rt.fns.ctrl_history, [], -1);
      return decodeHistory(raw) ?? { up: [], down: [] };
    } catch (e) {
      logText(this.#context.logger, "warn", `${this.script}: speed_history() failed: ${e}`);
      return { up: [], down: [] };
    }
  }

  /** Runs a full Lua GC and returns the engine's allocated bytes (benchmarks, leak tests). */
  heapBytes(): number {
    this.#rt.sandbox.collectGarbage();
    return this.#rt.sandbox.memoryUsed();
  }

  /** Frees the engine. */
  close(): void {
    this.#rt.close();
  }
}

/**
 * Starts a Lua ratecontroller from `settings.rate_controller` (a `.lua` path or
 * `builtin:<name>`): loads the script, checks it returns a module with `calculate`, calls
 * `configure(settings)` when present. Throws {@link LuaRatecontrollerError} naming the file
 * (and line, for syntax and runtime errors).
 */
export async function createLuaRatecontroller(
  context: RatecontrollerContext,
  options: LuaRatecontrollerOptions = {},
): Promise<LuaRatecontroller> {
  const ref = options.script ?? context.settings.rate_controller;
  let src;
  try {
    src = await resolveScript(ref, { readTextFile: options.readTextFile });
  } catch (e) {
    throw new LuaRatecontrollerError(`rate_controller "${ref}": ${(e as Error).message}`);
  }
  let rt: LuaRuntime;
  try {
    rt = await startRuntime({
      settings: context.settings,
      logger: context.logger,
      clock: context.clock,
      random: context.random,
      pluginSections: options.pluginSections,
    });
  } catch (e) {
    throw new LuaRatecontrollerError(`rate_controller ${src.display}: ${(e as Error).message}`);
  }
  try {
    rt.setLogSource(src.display);
    const chunk = rt.sandbox.load(src.source, `@${src.display}`);
    const [status, name] = rt.sandbox.call(rt.fns.ctrl_load, [
      chunk,
      rt.settings,
      ...controllerConstants(context.settings),
    ], 2);
    rt.sandbox.release(chunk);
    if (status === "no_table") {
      throw new Error(`${src.display}: the script must return its module table (got ${name})`);
    }
    if (status === "no_calculate") {
      throw new Error(`${src.display}: the module has no calculate(data) function`);
    }
    return new LuaRatecontroller(
      rt,
      context,
      src.display,
      typeof name === "string" ? name : src.display,
    );
  } catch (e) {
    rt.close();
    throw new LuaRatecontrollerError(`Lua ratecontroller: ${(e as Error).message}`);
  }
}
