import type { ParsedArgs } from "./args.ts";
import { settingsFromArgs } from "./settings_options.ts";
import { configureLogging, stageLogger } from "../log/mod.ts";
import { runDaemon, shutdownOnSignals } from "../daemon/mod.ts";
import { blockingSleep } from "../util/blocking_sleep.ts";
import { ExitCode } from "../util/exit_codes.ts";
import { ConfigError, type ResolvedSettings } from "../config/resolve.ts";
import { choosePinger, createMeasurement, type PingerChoice } from "../measure/mod.ts";
import { checkReflectorList } from "../reflectors/list_check.ts";
import { pluginSectionsFrom, usesLua } from "../lua/config.ts";
import { loadLuaHost } from "../lua/load.ts";
import { systemClock } from "../util/clock.ts";
import type { RateAdjuster } from "../control/ratecontroller_port.ts";
import denoJson from "../../deno.json" with { type: "json" };
import { checkPathsAgainstManifest } from "../release/manifest_paths.ts";
import { DAEMON_MANIFEST } from "../release/manifest.ts";
import { daemonTelemetry, startObservability, telemetryRead } from "../daemon/observability.ts";
import type { Telemetry } from "../report/telemetry.ts";
import { reloadProblems } from "./reload_check.ts";
import { netProblems } from "../release/manifest_net.ts";
import { ReloadRounds } from "./reload_rounds.ts";
import { statsPathWarnings } from "../report/stats_paths.ts";
import { restartChanges, type RestartInputs, restartInputs, sameScript } from "./restart_inputs.ts";

/**
 * `run`: resolves the settings (interfaces and base rates required), builds the measurement
 * pipeline, the plugins and the controller, and runs the daemon until SIGINT/SIGTERM. SIGHUP
 * re-reads the configuration: one that a restart would read exactly as the running daemon did
 * (settings and files alike: src/cli/restart_inputs.ts) changes nothing and is not checked; one
 * that changes only the logging is applied without a restart; another changed one that passes
 * {@linkcode reloadProblems} restarts the daemon in place with it; an
 * invalid one is logged and changes nothing; one whose restart still
 * fails to start (a Lua script that does not load, an interface locked by another daemon) is
 * replaced by the configuration in force before it (docs/operation.md, "A configuration re-read
 * on SIGHUP"). Returns the daemon's exit code; children are stopped before it returns.
 */
export async function runAction(args: ParsedArgs): Promise<number> {
  const first = settingsFromArgs(args, { requireDaemon: true });
  const rounds = new ReloadRounds<Round>({ resolved: first, inputs: restartInputs(first) });
  const stop = shutdownOnSignals();
  let restart = new AbortController();
  // Only the latest SIGHUP's checks decide (a storm of them re-reads the file each time).
  let hangups = 0;
  // A newer SIGHUP ends the check of the one before (in remote mode its ssh to the router).
  let checking = new AbortController();
  // SIGHUPs whose handling is under way: their steps need turns of the event loop, which the
  // blocking tick sleep would give them once a tick (docs/operation.md, "Signals").
  let hangupsBusy = 0;
  const onHangup = async (mine: number) => {
    hangupsBusy++;
    try {
      await handleHangup(mine);
    } finally {
      hangupsBusy--;
    }
  };
  const handleHangup = async (mine: number) => {
    const log = stageLogger("main");
    let next: ResolvedSettings;
    try {
      next = settingsFromArgs(args, { requireDaemon: true });
    } catch (e) {
      // The warnings first: a misspelt option or section is usually why a setting is "required"
      // (docs/operation.md, "A configuration re-read on SIGHUP"), and a start prints them too.
      if (e instanceof ConfigError) { for (const w of e.warnings) log.warning(w); }
      log.error("SIGHUP: the configuration has errors, keeping the running one: {error}", {
        error: String((e as Error).message ?? e).replaceAll("\n", " "),
      });
      return;
    }
    checking.abort();
    checking = new AbortController();
    // Compared with the newest configuration: the running one, or one a restart under way is for.
    const inputs = await restartInputs(next);
    const running = await rounds.newest.inputs;
    const changed = restartChanges(running, inputs);
    if (mine !== hangups || stop.signal.aborted) return;
    if (changed.length === 0) {
      // A restart would run the same again, at the cost of its start-up (docs/operation.md, "A
      // SIGHUP with nothing changed"): nothing to check, nothing to do.
      log.info("SIGHUP: configuration unchanged, keeping the running daemon");
      return;
    }
    if (loggingOnly(changed) && (!usesLua(next.settings) || changed.every(liveWithLua))) {
      // Only the logging changed (docs/operation.md, "A SIGHUP that changes only the logging"):
      // a restart would drop the learnt state that more logging is meant to show.
      log.info("SIGHUP: configuration re-read (changed: {changed}); applied without a restart", {
        changed: changed.join(", "),
      });
      for (const w of next.warnings) log.warning(w);
      configureLogging(next.settings.log_level, {
        format: next.settings.log_format,
        priority: next.settings.log_priority,
      });
      rounds.amended({ resolved: next, inputs: Promise.resolve(inputs) });
      return;
    }
    const tolerated: string[] = [];
    const problems = await reloadProblems(next, {
      remote: { signal: AbortSignal.any([checking.signal, stop.signal]) },
      // A plugin whose script the running daemon started with unchanged fails there as it does
      // here: refusing for it would keep every other edit out until it is fixed, and the restart
      // treats it as any start does (docs/operation.md, "A configuration re-read on SIGHUP").
      tolerate: (ref) => sameScript(running, inputs, ref),
      onTolerated: (p) => tolerated.push(p),
    });
    if (mine !== hangups || stop.signal.aborted) return;
    if (problems.length > 0) {
      for (const w of next.warnings) log.warning(w);
      log.error("SIGHUP: the configuration has errors, keeping the running one: {error}", {
        error: problems.join("; ").replaceAll("\n", " "),
      });
      return;
    }
    for (const p of tolerated) {
      log.warning(
        "SIGHUP: {problem}; its script is unchanged since the running configuration started " +
          "with it, so the restart goes ahead and runs it as a start does (a plugin that does " +
          "not load is skipped, one that keeps failing is disabled)",
        { problem: p.replaceAll("\n", " ") },
      );
    }
    // With Lua the level is a script's input too (docs/operation.md, "A SIGHUP that changes only
    // the logging"): the one INFO line says why that edit restarts.
    const restarting = "SIGHUP: configuration re-read (changed: {changed}); restarting with it";
    log.info(
      loggingOnly(changed)
        ? `${restarting}: Lua scripts are given log_level only at their start`
        : restarting,
      { changed: changed.join(", ") },
    );
    rounds.reloaded({ resolved: next, inputs: Promise.resolve(inputs) });
    restart.abort();
  };
  const hangup = () => void onHangup(++hangups);
  Deno.addSignalListener("SIGHUP", hangup);
  // Unhandled, SIGUSR2 would end the daemon as SIGKILL does, the shapers left at whatever rate
  // (docs/operation.md, "Signals"): one line instead, and it runs on.
  const stray = () =>
    stageLogger("main").warning(
      "SIGUSR2 ignored: stop sqm-autorate with SIGTERM or SIGINT (exit rate), reload with SIGHUP",
    );
  Deno.addSignalListener("SIGUSR2", stray);
  try {
    for (let n = 1;; n++) {
      restart = new AbortController();
      const onStop = () => restart.abort();
      stop.signal.addEventListener("abort", onStop, { once: true });
      // What this round reads, read just before it does (a SIGHUP compares with it). Not the
      // reading its SIGHUP took: that one is older by the SIGHUP's checks (an ssh round trip in
      // remote mode), a fallback's by the whole failed round, and a file edited meanwhile, then
      // put back, would pass for unchanged while the round runs the edit.
      const current = rounds.current;
      if (n > 1) current.inputs = restartInputs(current.resolved);
      await current.inputs;
      const code = await runWith(current.resolved, restart.signal, {
        first: n === 1,
        onStarted: () => rounds.started(),
        needsTurns: () => hangupsBusy > 0,
      });
      stop.signal.removeEventListener("abort", onStop);
      if (stop.signal.aborted) return code;
      const end = rounds.ended(code);
      if (end === "fallback") {
        stageLogger("main").error(
          "SIGHUP: the re-read configuration did not start (exit code {code}); " +
            "restarting with the one in force before it",
          { code },
        );
      }
      if (end !== "exit") continue;
      return code;
    }
  } finally {
    Deno.removeSignalListener("SIGHUP", hangup);
    Deno.removeSignalListener("SIGUSR2", stray);
    stop.dispose();
  }
}

/**
 * Settings a SIGHUP applies to the running daemon without a restart, when nothing else changed
 * and no Lua script runs (a script is given `log_level` at its start).
 */
const LIVE_SETTINGS: ReadonlySet<string> = new Set(["log_level", "log_format", "log_priority"]);

/**
 * Live with a Lua script running too: how the host writes each line, the scripts' own included
 * (the worker posts records; docs/operation.md, "A SIGHUP that changes only the logging"). A
 * script's `settings` copy keeps the values of its start; no upstream script reads these two.
 */
function liveWithLua(changed: string): boolean {
  return changed === "log_format" || changed === "log_priority";
}

/**
 * Only the logging changed: live settings alone (the options that are settings are not compared
 * as UCI sections too, src/cli/restart_inputs.ts).
 */
function loggingOnly(changed: readonly string[]): boolean {
  return changed.length > 0 && changed.every((c) => LIVE_SETTINGS.has(c));
}

/** One round's configuration and what its start-up reads (src/cli/restart_inputs.ts). */
interface Round {
  /** The configuration. */
  resolved: ResolvedSettings;
  /** What its start-up reads; read again just before each round with it starts. */
  inputs: Promise<RestartInputs>;
}

/** One daemon run with `resolved` until `shutdown` fires. */
async function runWith(
  resolved: ResolvedSettings,
  shutdown: AbortSignal,
  options: { first: boolean; onStarted?: () => void; needsTurns?: () => boolean },
): Promise<number> {
  const settings = resolved.settings;
  configureLogging(settings.log_level, {
    format: settings.log_format,
    priority: settings.log_priority,
  });
  const log = stageLogger("main");
  if (options.first) log.info("Starting sqm-autorate {version}", { version: denoJson.version });
  for (const w of resolved.warnings) log.warning(w);
  // Not fatal: from a checkout (`-P=dev`) other paths work; under the release manifest they
  // would fail later, so say so now.
  for (
    const issue of checkPathsAgainstManifest(settings, DAEMON_MANIFEST, {
      configPath: resolved.uci?.path,
    })
  ) {
    log.warning("{message}", { message: issue.message });
  }
  for (const w of await statsPathWarnings(settings)) log.warning("{w}", { w });
  // Before anything starts: a listen address or MQTT broker the manifest does not allow, as
  // check-config rejects them (78; docs/observability.md, "Permissions"), the reflector list
  // (78) and a pinger that runs (69).
  const badAddresses = netProblems(settings, DAEMON_MANIFEST);
  for (const p of badAddresses) log.fatal("{p}", { p });
  if (badAddresses.length > 0) return ExitCode.CONFIG;
  const list = await checkReflectorList(settings);
  for (const w of list.warnings ?? []) log.warning("{w}", { w });
  if (list.pool === undefined) {
    for (const p of list.problems) log.fatal("{p}", { p });
    return ExitCode.CONFIG;
  }
  let pingerChoice: PingerChoice;
  try {
    pingerChoice = await choosePinger(settings.pinger, {
      binary: settings.pinger_binary || undefined,
    });
  } catch (e) {
    log.fatal("{error}", { error: (e as Error).message });
    return ExitCode.UNAVAILABLE;
  }
  const pluginSections = pluginSectionsFrom(resolved.uci);

  // Lua runs in one worker for the controller and the plugins, which loads the engine (wasmoon
  // and its wasm) only when Lua scripts are configured; a stuck call is stopped by wall-clock
  // time and the shutdown signal stops the worker at once. Plugins that fail to load are logged
  // and skipped: the daemon runs on.
  const lua = usesLua(settings)
    ? await (await loadLuaHost()).startDaemonLua({
      settings,
      logger: stageLogger("plugins"),
      clock: systemClock,
      pluginSections,
      signal: shutdown,
    })
    : undefined;
  const plugins = lua?.plugins;
  const adjusters: RateAdjuster[] = plugins ? [plugins] : [];

  // The telemetry is built after the measurement it reads, but sees its replies from the start;
  // none is fed when nothing reads it (docs/footprint.md, "Twenty-second session").
  const tap: { telemetry?: Telemetry } = {};
  const measurement = createMeasurement(settings, {
    pool: list.pool,
    pingerChoice,
    onReply: telemetryRead(settings) ? (r) => tap.telemetry?.onReply(r) : undefined,
  });
  const telemetry = tap.telemetry = daemonTelemetry(settings, {
    measurement,
    plugins: plugins ? () => plugins.health : undefined,
  });
  const observability = await startObservability(settings, {
    telemetry,
    logger: stageLogger("report"),
    version: denoJson.version,
  });
  // A pinger switch under way (kill, exit, the next spawn: each a turn of the event loop) makes
  // that wait a timer's, so the switch completes within the tick that began it (docs/footprint.md,
  // "Nineteenth session: a pinger switch within its tick").
  const tickSleep = observability.usesThread ? undefined : blockingSleep({
    needsTurns: () => measurement.pinger?.switching === true || options.needsTurns?.() === true,
  });
  try {
    return await runDaemon(settings, {
      measurement,
      luaFactory: lua?.ratecontroller,
      adjusters,
      stateDir: settings.state_dir,
      shutdown,
      observers: observability.observers,
      // Idle and under load, the loop's thread blocks between ticks (one wake-up instead of two)
      // unless a listener or publisher needs it meanwhile; the pinger's lines that arrived are
      // taken in together with their own receive times (docs/footprint.md, "Idle CPU" and "CPU
      // under load").
      tickSleep,
      onControlStarted: options.onStarted,
    });
  } finally {
    await observability.stop();
  }
}
