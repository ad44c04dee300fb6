/**
 * One started Lua engine with the util module, the bridge entry points and upstream's settings
 * table loaded: the common base of the plugin manager and the Lua ratecontroller.
 */
import type { Logger } from "../log/logger.ts";
import type { Settings } from "../config/types.ts";
import { type Clock, type RandomSource, systemClock } from "../util/clock.ts";
import { BRIDGE_ENTRY_POINTS, BRIDGE_LUA, sectionToLua, settingsToLua } from "./bridge.ts";
import { type LuaRef, LuaSandbox } from "./engine.ts";
import { LuaError } from "./errors.ts";
import { UTIL_LUA } from "./util_lib.ts";
import type { PluginSections } from "./config.ts";
import { logText } from "./log_text.ts";
import { LOG_LINES_PER_S, LogBudget } from "./log_budget.ts";

export type { PluginSections } from "./config.ts";

/** Options of {@link startRuntime}. */
export interface RuntimeOptions {
  /** Effective settings (limits, log level, the settings table for scripts). */
  settings: Settings;
  /** Where script log lines go. */
  logger: Logger;
  /** Injected clock (util.get_current_time, os.time). Default: the system clock. */
  clock?: Clock;
  /** Injected random source (`sqma.random`, `data.random`). Default: Math.random. */
  random?: RandomSource;
  /** UCI sections for `settings.plugin(name)`; without one, plugin() returns an empty table. */
  pluginSections?: PluginSections;
  /** Seed of Lua's math.random. Default 0. */
  mathSeed?: number;
}

/** A started engine and its bridge. */
export interface LuaRuntime {
  /** The engine. */
  sandbox: LuaSandbox;
  /** Bridge entry points by name. */
  fns: Record<(typeof BRIDGE_ENTRY_POINTS)[number], LuaRef>;
  /** Upstream's settings table for scripts. */
  settings: LuaRef;
  /** Prefix for script log lines (e.g. the plugin being called). */
  setLogSource(source: string | undefined): void;
  /** Frees the engine. */
  close(): void;
}

const LEVELS: Record<string, "trace" | "debug" | "info" | "warn" | "error" | "fatal"> = {
  TRACE: "trace",
  DEBUG: "debug",
  INFO: "info",
  WARN: "warn",
  WARNING: "warn",
  ERROR: "error",
  FATAL: "fatal",
};

/** Starts an engine with util, bridge and settings. Throws {@link LuaError} if that fails. */
export async function startRuntime(options: RuntimeOptions): Promise<LuaRuntime> {
  const { settings, logger } = options;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const sections = options.pluginSections;
  let source: string | undefined;
  const logBudget = new LogBudget(() => clock.monotonicS());
  const sandbox = await LuaSandbox.create({
    timeLimitMs: settings.lua_time_limit_ms,
    memoryLimitMb: settings.lua_memory_limit_mb,
    mathSeed: options.mathSeed ?? 0,
    host: {
      log: (level, text) => {
        const method = LEVELS[level.toUpperCase()] ?? "info";
        const from = source === undefined ? "" : `${source}: `;
        const budget = logBudget.take(from, method);
        if (!budget.ok) return;
        if (budget.dropped !== undefined) {
          const { lines, overS } = budget.dropped;
          logText(
            logger,
            method,
            `${from}${lines} more lines left out over ${Math.round(overS)} s: scripts may log ` +
              `${LOG_LINES_PER_S} lines a second at a level (docs/plugins.md, "The sandbox")`,
          );
        }
        logText(logger, method, `${from}${text}`);
      },
      random,
      wallMs: () => clock.wallMs(),
      section: (name) => {
        const s = sections?.(name);
        return s === undefined ? undefined : sectionToLua(s);
      },
    },
  });
  try {
    const utilChunk = sandbox.load(UTIL_LUA, "=util");
    const [util] = sandbox.callRefs(utilChunk, [settings.log_level], 1);
    const bridgeChunk = sandbox.load(BRIDGE_LUA, "=bridge");
    const refs = sandbox.callRefs(bridgeChunk, [util], BRIDGE_ENTRY_POINTS.length);
    const fns = Object.fromEntries(BRIDGE_ENTRY_POINTS.map((n, i) => [n, refs[i]])) as LuaRuntime[
      "fns"
    ];
    const settingsChunk = sandbox.load(settingsToLua(settings), "=settings");
    const [raw] = sandbox.callRefs(settingsChunk, [], 1);
    const [table] = sandbox.callRefs(fns.prepare_settings, [raw], 1);
    // The bridge functions keep what they need as upvalues; drop the loading handles.
    for (const r of [utilChunk, util, bridgeChunk, settingsChunk, raw]) sandbox.release(r);
    return {
      sandbox,
      fns,
      settings: table,
      setLogSource: (s) => {
        source = s;
      },
      close: () => sandbox.close(),
    };
  } catch (e) {
    sandbox.close();
    if (e instanceof LuaError) throw new LuaError(e.kind, `Lua runtime start-up: ${e.message}`);
    throw e;
  }
}
