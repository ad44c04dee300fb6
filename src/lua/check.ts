/**
 * `check-config`'s Lua check: every configured script is loaded as the daemon would load it, and
 * then one synthetic tick goes through the Lua ratecontroller and every plugin, so runtime faults
 * (an error in `process`, a result of the wrong type) show up before the daemon runs.
 */
import type { Logger } from "../log/logger.ts";
import type { Settings } from "../config/types.ts";
import type { TickInput, TickReadings } from "../control/ratecontroller_port.ts";
import { isLuaRatecontroller } from "../ratecontroller/mod.ts";
import { systemClock } from "../util/clock.ts";
import { createOwdState } from "../baseline/owd_state.ts";
import { stageLogger } from "../log/mod.ts";
import { createLuaRatecontroller } from "./lua_ratecontroller.ts";
import { createPluginManager } from "./plugin_manager.ts";
import type { PluginSections } from "./runtime.ts";

/** Options of {@link checkScripts}. */
export interface CheckScriptsOptions {
  /** UCI sections for `settings.plugin(name)`. */
  pluginSections?: PluginSections;
  /** Where the scripts' log lines go (default: the `lua` stage logger). */
  logger?: Logger;
  /** Reads script files. Default: `Deno.readTextFile`. */
  readTextFile?: (path: string) => Promise<string>;
  /**
   * A SIGHUP's check: true for a plugin reference whose problems do not count (it fails as it did
   * in the running configuration: docs/operation.md, "A configuration re-read on SIGHUP"); its
   * problems go to `onTolerated` instead.
   */
  tolerate?: (ref: string) => boolean;
  /** Receives each problem `tolerate` took out. */
  onTolerated?: (problem: string) => void;
}

/**
 * A plausible tick for the configured rates: rates at 60 % of base, half loaded, five fresh
 * reflectors with small delays (below the thresholds).
 */
export function syntheticTick(settings: Settings): TickInput {
  const cur = {
    dl: Math.round(0.6 * settings.base_dl_rate),
    ul: Math.round(0.6 * settings.base_ul_rate),
  };
  const dt = settings.min_change_interval;
  const load = 0.5;
  const dl = [0.4, 0.9, 1.5, 2.2, 3.0];
  const ul = [0.3, 0.7, 1.1, 1.8, 2.6];
  const readings: TickReadings = {
    now_s: 10 * dt,
    dt,
    rx_load: load,
    tx_load: load,
    down_del_stat: dl[2],
    up_del_stat: ul[2],
    down_utilisation: load * cur.dl,
    up_utilisation: load * cur.ul,
    cur_dl_rate: cur.dl,
    cur_ul_rate: cur.ul,
    dl_bytes: Math.round(load * cur.dl * dt * 125),
    ul_bytes: Math.round(load * cur.ul * dt * 125),
    dl_deltas: dl,
    ul_deltas: ul,
    samples: dl.map((d, i) => ({
      reflector: `192.0.2.${i + 1}`,
      ul_delta: ul[i],
      dl_delta: d,
      age_s: 0.1 * i,
    })),
  };
  return {
    readings,
    ul_max_delta_owd: settings.ul_max_delta_owd,
    dl_max_delta_owd: settings.dl_max_delta_owd,
  };
}

/**
 * Loads every configured Lua script as the daemon would — the plugins (`plugin_ratecontrol`,
 * `plugin_scripts`) and a Lua `rate_controller` — and runs one {@link syntheticTick} through
 * them (controller first, then the plugins on its proposal). Returns one message per problem,
 * naming file and line where Lua gives one; empty: all load and run. The scripts' own log lines
 * go to `options.logger`.
 */
export async function checkScripts(
  settings: Settings,
  options: CheckScriptsOptions = {},
): Promise<string[]> {
  const logger = options.logger ?? stageLogger("lua");
  const problems: string[] = [];
  const controllerProblems: string[] = [];
  const tick = syntheticTick(settings);
  let proposal = {
    next_dl_rate: tick.readings.cur_dl_rate,
    next_ul_rate: tick.readings.cur_ul_rate,
  };
  const rc = settings.rate_controller.trim();
  if (isLuaRatecontroller(rc)) {
    try {
      const controller = await createLuaRatecontroller({
        settings,
        clock: systemClock,
        random: Math.random,
        logger,
        owd: createOwdState(),
        reselect: { requestReselect: () => {} },
      }, { pluginSections: options.pluginSections, readTextFile: options.readTextFile });
      try {
        const found = controller.checkTick(tick);
        controllerProblems.push(...found.map((p) => `rate_controller: ${p}`));
        if (found.length === 0) {
          const d = controller.decide(tick);
          proposal = { next_dl_rate: d.next_dl_rate, next_ul_rate: d.next_ul_rate };
        }
      } finally {
        controller.close();
      }
    } catch (e) {
      const message = (e as Error).message;
      // The controller's own errors may already name the setting.
      controllerProblems.push(
        message.startsWith("rate_controller") ? message : `rate_controller "${rc}": ${message}`,
      );
    }
  }
  const plugin = (ref: string, problem: string) => {
    if (options.tolerate?.(ref) === true) options.onTolerated?.(problem);
    else problems.push(problem);
  };
  const plugins = await createPluginManager({
    settings,
    logger,
    pluginSections: options.pluginSections,
    readTextFile: options.readTextFile,
    onLoadError: (ref, message) => plugin(ref, `plugin "${ref}": ${message}`),
  }).catch((e) => {
    problems.push(`Lua engine: ${(e as Error).message}`);
    return undefined;
  });
  if (plugins !== undefined) {
    try {
      for (const p of plugins.checkTickByRef({ ...tick, ...proposal })) plugin(p.ref, p.problem);
    } finally {
      plugins.close();
    }
  }
  // Plugins first, as the daemon loads them first.
  return [...problems, ...controllerProblems];
}
