/**
 * Lua plugins (upstream's ratecontrol plugin interface, docs/plugins.md): loaded once into one
 * engine, run in order after the controller each tick, each seeing the previous one's proposal.
 * A plugin that fails to load is skipped; one that keeps failing is disabled; none can stop the
 * control loop.
 */
import { pluginBaseName } from "../config/plugin_name.ts";
import type { Logger } from "../log/logger.ts";
import type { Settings } from "../config/types.ts";
import { type Clock, type RandomSource, systemClock } from "../util/clock.ts";
import type { AdjusterInput, Adjustment, RateAdjuster } from "../control/ratecontroller_port.ts";
import { decodePluginResults, pluginArgs } from "./bridge.ts";
import { LuaError } from "./errors.ts";
import { FailureLog } from "./failure_log.ts";
import { reportOverrun } from "./overrun.ts";
import type { LuaSandbox } from "./engine.ts";
import { type LuaRuntime, type PluginSections, startRuntime } from "./runtime.ts";
import { logText } from "./log_text.ts";
import { globalClashWarnings } from "./global_clash.ts";
import { resolveScript } from "./scripts.ts";
import { type PluginRef, pluginRefsWithSettings } from "./plugin_refs.ts";

/** `process()` failures within {@link FAILURE_WINDOW_CALLS} calls that disable a plugin. */
export const MAX_FAILURES = 10;
/** The window of {@link MAX_FAILURES}: a plugin's most recent calls. */
export const FAILURE_WINDOW_CALLS = 100;

/** Options of {@link createPluginManager} and {@link checkScripts}. */
export interface PluginManagerOptions {
  /** Effective settings (`plugin_ratecontrol`, `plugin_scripts`, Lua limits, …). */
  settings: Settings;
  /** Logger for plugin messages. */
  logger: Logger;
  /** Injected clock. Default: the system clock. */
  clock?: Clock;
  /** Injected random source (`sqma.random`). Default: Math.random. */
  random?: RandomSource;
  /**
   * Seed of Lua's own `math.random`, derived by the caller (the simulator from its seed), so
   * loading plugins never draws from the shared random source. Default: a fresh random seed.
   */
  mathSeed?: number;
  /** UCI sections for `settings.plugin(name)` (from the UCI reader). */
  pluginSections?: PluginSections;
  /** Reads script files. Default: `Deno.readTextFile`. */
  readTextFile?: (path: string) => Promise<string>;
  /**
   * Called for each plugin that does not load (default: logged at ERROR and skipped).
   * `check-config` collects them instead.
   */
  onLoadError?: (ref: string, message: string) => void;
  /** Called with a plugin's id (its 1-based position) just before each `process()` call. */
  beforeCall?: (id: number) => void;
  /** Module-name search directories (see `MODULE_DIRS`). */
  moduleDirs?: readonly string[];
}

interface LoadedPlugin {
  id: number;
  /** The configured reference (`plugin_scripts` entry or `plugin_ratecontrol`). */
  ref: string;
  name: string;
  /** Calls so far. */
  calls: number;
  /** Call numbers of the failures within the window. */
  failedCalls: number[];
  disabled: boolean;
  failureLog: FailureLog;
  /** A call past the time limit held in C was logged (once per plugin). */
  overranLogged?: boolean;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Two plugins set the same global: one warning per pair, once (src/lua/global_clash.ts). */
function warnClashes(logger: Logger, clashes: string): void {
  for (const w of globalClashWarnings(clashes)) logText(logger, "warn", w);
}

function firstLine(text: string): string {
  const i = text.indexOf("\n");
  return i < 0 ? text : text.slice(0, i);
}

/** Loads every reference into `rt`; calls `onError(ref, message)` for each one that fails. */
async function loadPlugins(
  rt: LuaRuntime,
  refs: readonly PluginRef[],
  options: PluginManagerOptions,
  onError: (ref: string, message: string) => void,
): Promise<LoadedPlugin[]> {
  const loaded: LoadedPlugin[] = [];
  for (const [i, { ref, setting }] of refs.entries()) {
    const id = i + 1;
    try {
      const src = await resolveScript(ref, { ...options, setting });
      rt.setLogSource(src.display);
      const chunk = rt.sandbox.load(src.source, `@${src.display}`);
      let status: unknown, name: unknown, clashes: unknown;
      try {
        [status, name, clashes] = rt.sandbox.call(rt.fns.plugin_load, [
          id,
          chunk,
          rt.settings,
          pluginBaseName(src.display),
          src.display,
        ], 3);
      } finally {
        rt.sandbox.release(chunk);
      }
      if (typeof clashes === "string") warnClashes(options.logger, clashes);
      if (status === "no_table") {
        throw new Error(
          `${src.display}: a plugin must return its module table (got ${name ?? "nil"})`,
        );
      }
      if (status === "no_process") {
        throw new Error(`${src.display}: the plugin module has no process(readings) function`);
      }
      loaded.push({
        id,
        ref,
        name: typeof name === "string" ? name : src.display,
        calls: 0,
        failedCalls: [],
        disabled: false,
        failureLog: new FailureLog({
          logger: options.logger,
          nowS: () => (options.clock ?? systemClock).monotonicS(),
        }),
      });
    } catch (e) {
      onError(ref, messageOf(e));
    } finally {
      rt.setLogSource(undefined);
    }
  }
  return loaded;
}

/** Runs the loaded plugins; implements the loop's {@link RateAdjuster}. */
export class PluginManager implements RateAdjuster {
  /** Display name. */
  readonly name = "lua-plugins";
  readonly #rt: LuaRuntime;
  readonly #plugins: LoadedPlugin[];
  readonly #logger: Logger;
  readonly #beforeCall?: (id: number) => void;
  /** While {@link checkTick} runs: the problems of the tick. */
  #problems: string[] | undefined;
  /** While {@link checkTick} runs: the reference of the plugin each problem is about. */
  #problemRefs: string[] = [];
  #errors = 0;

  /** Use {@link createPluginManager}. */
  constructor(
    rt: LuaRuntime,
    plugins: LoadedPlugin[],
    options: { logger: Logger; beforeCall?: (id: number) => void },
  ) {
    this.#rt = rt;
    this.#plugins = plugins;
    this.#logger = options.logger;
    this.#beforeCall = options.beforeCall;
  }

  /** Names of the plugins that are loaded and not disabled, in run order. */
  get active(): string[] {
    return this.#plugins.filter((p) => !p.disabled).map((p) => p.name);
  }

  /**
   * Runs one tick through every plugin (as `adjust`, which logs) and returns its problems: a
   * failed `process()` with file:line, or results that were ignored. For `check-config`.
   */
  checkTick(input: AdjusterInput): string[] {
    return this.checkTickByRef(input).map((p) => p.problem);
  }

  /** {@link checkTick}'s problems, each with the configured reference of its plugin. */
  checkTickByRef(input: AdjusterInput): { ref: string; problem: string }[] {
    this.#problems = [];
    this.#problemRefs = [];
    try {
      this.adjust(input);
      return this.#problems.map((problem, i) => ({ ref: this.#problemRefs[i], problem }));
    } finally {
      this.#problems = undefined;
    }
  }

  /** Failed `process()` calls so far, and the plugins disabled for failing (for metrics). */
  get health(): { errors: number; disabled: string[] } {
    return {
      errors: this.#errors,
      disabled: this.#plugins.filter((p) => p.disabled).map((p) => p.name),
    };
  }

  /** 1-based positions (in the configured list) of the plugins disabled for failing. */
  get disabledIds(): number[] {
    return this.#plugins.filter((p) => p.disabled).map((p) => p.id);
  }

  /** Runs every active plugin in order and returns the changes to this tick's proposal. */
  adjust(input: AdjusterInput): Adjustment {
    const cur = {
      next_ul_rate: input.next_ul_rate,
      next_dl_rate: input.next_dl_rate,
      ul_max_delta_owd: input.ul_max_delta_owd,
      dl_max_delta_owd: input.dl_max_delta_owd,
    };
    const out: Adjustment = {};
    const by: string[] = [];
    for (const p of this.#plugins) {
      if (p.disabled) continue;
      try {
        this.#adjustOne(p, input, { cur, out, by });
      } finally {
        // Whatever this plugin's call added to a check's problems is about it.
        while (this.#problems !== undefined && this.#problemRefs.length < this.#problems.length) {
          this.#problemRefs.push(p.ref);
        }
      }
    }
    if (by.length > 0) out.by = by.join(", ");
    return out;
  }

  /** Runs one plugin on the proposal `cur`, noting its changes in `out` and `by`. */
  #adjustOne(
    p: LoadedPlugin,
    input: AdjusterInput,
    { cur, out, by }: {
      cur: Record<
        "next_ul_rate" | "next_dl_rate" | "ul_max_delta_owd" | "dl_max_delta_owd",
        number
      >;
      out: Adjustment;
      by: string[];
    },
  ): void {
    const { sandbox, fns } = this.#rt;
    let raw;
    this.#rt.setLogSource(p.name);
    p.calls++;
    this.#beforeCall?.(p.id);
    try {
      const args = pluginArgs({ readings: input.readings, ...cur });
      raw = sandbox.call(fns.plugin_process, [p.id, ...args], 6);
      p.failureLog.success(`plugin ${p.name}: process()`);
      this.#overrun(p, sandbox);
    } catch (e) {
      // A timeout raised only after a long C call returned names the code after it: say why.
      this.#overrun(p, sandbox);
      this.#fail(p, e);
      return;
    } finally {
      this.#rt.setLogSource(undefined);
    }
    if (typeof raw[5] === "string") warnClashes(this.#logger, raw[5]);
    const res = decodePluginResults(`plugin ${p.name}`, raw);
    const warning = res.warnings.join("\n");
    // A plugin that returns a bad value every tick or every few would flood the log.
    if (warning !== "") p.failureLog.warning(`plugin ${p.name}: process()`, warning);
    if (warning !== "") this.#problems?.push(...res.warnings);
    const changes: string[] = [];
    for (
      const key of [
        "next_ul_rate",
        "next_dl_rate",
        "ul_max_delta_owd",
        "dl_max_delta_owd",
      ] as const
    ) {
      const v = res.values[key];
      if (v === undefined || v === cur[key]) continue;
      const digits = key.startsWith("next") ? 0 : 1;
      changes.push(`${key}: ${cur[key].toFixed(digits)} -> ${v.toFixed(digits)}`);
      cur[key] = v;
      out[key] = v;
    }
    if (changes.length > 0) {
      by.push(p.name);
      // DEBUG: a plugin may change the rates every tick; the loop logs a threshold change at
      // INFO once for all plugins (docs/operation.md, "Logging").
      logText(
        this.#logger,
        "debug",
        `settings changed by plugin ${p.name}:\n${changes.join("\n")}`,
      );
    } else if (Object.keys(res.values).length === 0 && warning === "") {
      logText(this.#logger, "debug", `No results were sent by plugin ${p.name}`);
    }
  }

  /** A call held in C past the limit: a problem for check-config, else one warning per plugin. */
  #overrun(p: LoadedPlugin, sandbox: LuaSandbox): void {
    p.overranLogged = reportOverrun(`plugin ${p.name}: process()`, sandbox, {
      problems: this.#problems,
      warned: p.overranLogged ?? false,
      logger: this.#logger,
    });
  }

  #fail(p: LoadedPlugin, e: unknown): void {
    p.failedCalls.push(p.calls);
    while (p.failedCalls[0] <= p.calls - FAILURE_WINDOW_CALLS) p.failedCalls.shift();
    this.#errors++;
    const kind = e instanceof LuaError ? e.kind : "error";
    // check-config prints the problem itself, traceback and all: logged too, it came out twice.
    if (this.#problems !== undefined) {
      this.#problems.push(`plugin ${p.name}: process() failed (${kind}): ${messageOf(e)}`);
    } else {
      p.failureLog.failure(
        `plugin ${p.name}: process() failed (${kind}); results ignored this tick`,
        messageOf(e),
      );
    }
    if (p.failedCalls.length >= MAX_FAILURES) {
      p.disabled = true;
      logText(
        this.#logger,
        "error",
        `plugin ${p.name} disabled after ${MAX_FAILURES} failures in its last ` +
          `${Math.min(p.calls, FAILURE_WINDOW_CALLS)} calls (last: ${firstLine(messageOf(e))})`,
      );
      try {
        this.#rt.sandbox.call(this.#rt.fns.plugin_drop, [p.id], 0);
      } catch {
        // dropping is only to free memory; a failure here changes nothing
      }
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
 * Creates the plugin manager when plugins are configured (`plugin_ratecontrol` and/or
 * `plugin_scripts`); undefined otherwise. A plugin that fails to load is logged (file:line)
 * and skipped; if none loads, the result is undefined as well.
 */
export async function createPluginManager(
  options: PluginManagerOptions,
): Promise<PluginManager | undefined> {
  const refs = pluginRefsWithSettings(options.settings);
  if (refs.length === 0) return undefined;
  const { logger } = options;
  const rt = await startRuntime({
    ...options,
    mathSeed: options.mathSeed ?? Math.floor(Math.random() * 2 ** 31),
  });
  const plugins = await loadPlugins(
    rt,
    refs,
    options,
    options.onLoadError ?? ((ref, message) => {
      logText(logger, "error", `Lua plugin "${ref}" not loaded: ${message}`);
    }),
  );
  if (plugins.length === 0) {
    rt.close();
    return undefined;
  }
  for (const p of plugins) logText(logger, "info", `Loaded ratecontrol plugin: ${p.name}`);
  return new PluginManager(rt, plugins, { logger, beforeCall: options.beforeCall });
}
