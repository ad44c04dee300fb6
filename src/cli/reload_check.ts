/**
 * What a SIGHUP checks of a re-read configuration before the running daemon is stopped for it
 * (docs/operation.md, "A configuration re-read on SIGHUP"): what `run` would otherwise find
 * wrong only after the old configuration's shapers were given up. Each problem names its
 * setting; any problem keeps the configuration in force.
 */
import type { Settings } from "../config/types.ts";
import { checkReflectorList } from "../reflectors/list_check.ts";
import { choosePinger } from "../measure/mod.ts";
import { netProblems } from "../release/manifest_net.ts";
import { DAEMON_MANIFEST } from "../release/manifest.ts";
import { createShaperPair, shapersBySetting } from "../apply/shaper.ts";
import { isRemote } from "../remote/mod.ts";
import { type RemoteShaperCheckOptions, remoteShaperProblems } from "../remote/shaper_check.ts";
import type { ShaperPair } from "../control/ports.ts";
import type { ResolvedSettings } from "../config/resolve.ts";
import { pluginSectionsFrom, usesLua } from "../lua/config.ts";
import { loadLua } from "../lua/load.ts";
import { stageLogger } from "../log/mod.ts";
import type { Logger } from "../log/logger.ts";

/** Options of {@linkcode reloadProblems}. */
export interface ReloadCheckOptions {
  /** Builds the shapers to check (default: local `tc`, as the daemon builds them). */
  shapers?: (settings: Settings) => ShaperPair;
  /**
   * Remote mode: how the router is asked (default: one `ssh … tc …` each, within
   * `REMOTE_RELOAD_CHECK_MS`); `signal` ends the check early (a newer SIGHUP).
   */
  remote?: RemoteShaperCheckOptions;
  /**
   * Plugin references whose problems keep nothing from restarting: their scripts fail as they did
   * in the running configuration (src/lua/check.ts); `onTolerated` gets their problems.
   */
  tolerate?: (ref: string) => boolean;
  /** Receives each problem `tolerate` took out. */
  onTolerated?: (problem: string) => void;
}

/**
 * Everything that would stop `resolved` from starting that can be seen without touching the
 * running daemon: the reflector list, the pinger, the addresses (those `check-config` rejects:
 * src/release/manifest_net.ts), both interfaces with the
 * configured shaper's root qdisc or class (in remote mode asked of the router over ssh; a router
 * that does not answer is a problem too: src/remote/shaper_check.ts), and every Lua script (a Lua ratecontroller, the plugins) loaded and run through one
 * synthetic tick as `check-config` does. What is still found only by the restart (an interface
 * locked by another daemon) makes it go back to the configuration in force
 * (src/cli/run_command.ts).
 */
export async function reloadProblems(
  resolved: ResolvedSettings,
  options: ReloadCheckOptions = {},
): Promise<string[]> {
  const settings = resolved.settings;
  const problems: string[] = [];
  if (usesLua(settings)) {
    const { checkScripts } = await loadLua();
    problems.push(
      ...await checkScripts(settings, {
        pluginSections: pluginSectionsFrom(resolved.uci),
        logger: debugOnly(stageLogger("lua")),
        tolerate: options.tolerate,
        onTolerated: options.onTolerated,
      }),
    );
  }
  const list = await checkReflectorList(settings);
  problems.push(...list.problems.map((p) => `reflector_list_file: ${p}`));
  try {
    await choosePinger(settings.pinger, {
      binary: settings.pinger_binary || undefined,
      quiet: true,
    });
  } catch (e) {
    problems.push(`pinger: ${(e as Error).message}`);
  }
  problems.push(...netProblems(settings, DAEMON_MANIFEST));
  if (options.shapers === undefined && isRemote(settings)) {
    problems.push(...await remoteShaperProblems(settings, options.remote));
    return problems;
  }
  const shapers = (options.shapers ?? ((s) => createShaperPair(s, { batch: false })))(settings);
  try {
    for (const [name, shaper] of shapersBySetting(shapers)) {
      try {
        await shaper.check();
      } catch (e) {
        problems.push(`${name}: ${(e as Error).message}`);
      }
    }
  } finally {
    await shapers.close?.().catch(() => {});
  }
  return problems;
}

/** `logger` with every record at DEBUG: the scripts' own lines during a SIGHUP's check. */
function debugOnly(logger: Logger): Logger {
  const debug = (message: string, properties?: Parameters<Logger["debug"]>[1]) =>
    logger.debug(message, properties);
  return {
    category: logger.category,
    trace: (message, properties) => logger.trace(message, properties),
    debug,
    info: debug,
    warn: debug,
    warning: debug,
    error: debug,
    fatal: debug,
  };
}
