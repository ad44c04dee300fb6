/**
 * The daemon: start-up checks and sequence (Rust port: minimum rates, settle, measurement,
 * baselines, then control from 60 % of base), the control loop in real time, and a clean
 * shutdown on SIGINT/SIGTERM (exit rate, stop measurement, flush files). Everything with side
 * effects is injectable so the whole sequence runs in virtual time in tests.
 */
import type { Logger } from "../log/logger.ts";
import type { Settings } from "../config/types.ts";
import type {
  ControlObserver,
  CounterReader,
  MeasurementService,
  ShaperPair,
  StatsSink,
} from "../control/ports.ts";
import {
  type Clock,
  type RandomSource,
  realSleep,
  type Sleep,
  systemClock,
} from "../util/clock.ts";
import { stageLogger } from "../log/mod.ts";
import { ExitCode } from "../util/exit_codes.ts";
import { settledWithin } from "../util/settled_within.ts";
import { createShaperPair, ShaperCheckError } from "../apply/shaper.ts";
import { watchForeignRates } from "../apply/foreign_rate.ts";
import { describeShaperQueues, dlCarriesProbes, shaperQueues } from "../apply/shaper_queue.ts";
import { type LinkKindReader, readLinkKind } from "../apply/link_kind.ts";
import { swappedInterfaces } from "../apply/swapped_interfaces.ts";
import { createCounterReader } from "../counters/mod.ts";
import { createStatsSink, statsRowsPerFlush } from "../report/stats.ts";
import {
  controllerFailureExitCode,
  createRatecontroller,
  type LuaRatecontrollerFactory,
} from "../ratecontroller/mod.ts";
import { collectDeltas } from "../control/deltas.ts";
import type { RateAdjuster, Ratecontroller } from "../control/ratecontroller_port.ts";
import { ControlLoop, decisionPeriodS } from "../control/loop.ts";
import { createRemoteAdapters, isRemote } from "../remote/mod.ts";
import { runControlLoop } from "../control/driver.ts";
import { PeriodicSummary } from "../control/summary.ts";
import { HeapTrim } from "./heap_trim.ts";
import {
  acquireInstanceLock,
  type InstanceLock,
  InstanceLockedError,
  LOCK_CLAIM_S,
} from "./instance_lock.ts";
import { LockWatch } from "./lock_watch.ts";
import { gatedForStop } from "./stop_gate.ts";
import { privilegeRefusal } from "../apply/tc_privilege.ts";

/** Start-up timing (defaults: Lua's 12 × 5 s interface wait, Rust's 2 s settle and 10 s wait). */
export interface StartupTiming {
  /** Attempts to find the interfaces and counters before giving up. */
  attempts?: number;
  /** Seconds between attempts. */
  retryDelayS?: number;
  /** Seconds at minimum rate before measuring ("settle"). */
  settleS?: number;
  /** Longest wait for 5 fresh baselines before control starts anyway. */
  baselineWaitS?: number;
  /**
   * Longest wait for the exit rate on shutdown, s (default {@linkcode EXIT_RATE_BUDGET_S}; real
   * time, whatever `sleep` is).
   */
  exitRateBudgetS?: number;
}

/**
 * The exit rate's budget on shutdown, s: a router that stopped answering (remote mode, a silent
 * link) must not hold the exit past the service manager's stop timeout (15 s); the shapers'
 * close and the pingers' stop follow within a few seconds (docs/remote.md, "Start-up and
 * faults").
 */
export const EXIT_RATE_BUDGET_S = 6;

/** What the daemon is built from; everything but `measurement` has a real default. */
export interface DaemonDeps {
  /** The measurement pipeline (pingers, baseliner, selector). */
  measurement: MeasurementService;
  /** Clock (default: the system clock). */
  clock?: Clock;
  /** Random source (default `Math.random`). */
  random?: RandomSource;
  /** Sleep (default: real timers); must resolve early when the signal aborts. */
  sleep?: Sleep;
  /**
   * Sleep between control ticks (default `sleep`): a blocking one (src/util/blocking_sleep.ts)
   * when nothing else needs the thread, i.e. no metrics listener and no MQTT publisher; the
   * pinger's lines that arrived meanwhile are read during the tick's counter reading, before the
   * deltas are collected (docs/footprint.md, "Idle CPU" and "CPU under load").
   */
  tickSleep?: Sleep;
  /** Fires on shutdown (default: SIGINT/SIGTERM). */
  shutdown?: AbortSignal;
  /** Shapers (default from the settings `shaper`, `dl_if`, `ul_if`, `htb_classid`). */
  shapers?: ShaperPair;
  /**
   * Reads the download interface's link kind once at start-up, to tell an IFB (default: `ip`
   * where the daemon builds its own shapers, locally or on the router in remote mode; with
   * injected shapers none, and the interface's name decides; docs/controllers.md, "Shapers
   * without flow isolation").
   */
  linkKind?: LinkKindReader;
  /** Byte counters (default: `ip` coprocess with the direction settings). */
  counters?: CounterReader;
  /** The controller (default: from `rate_controller`). */
  controller?: Ratecontroller;
  /** Builds Lua ratecontrollers (from src/lua/mod.ts). */
  luaFactory?: LuaRatecontrollerFactory;
  /** Plugins / adjusters. */
  adjusters?: RateAdjuster[];
  /** Told about every control tick (metrics, live page, MQTT). */
  observers?: ControlObserver[];
  /** Statistics sink; `null` = none; default: files unless `suppress_statistics`. */
  stats?: StatsSink | null;
  /** Logger (default: the `daemon` stage logger). */
  logger?: Logger;
  /** Start-up timing. */
  timing?: StartupTiming;
  /** Period of the one-line INFO summary, s (default 300). */
  summaryPeriodS?: number;
  /** Directory of the per-interface locks (setting `state_dir`); absent = no lock (tests). */
  stateDir?: string;
  /**
   * Told once control has started (after the start-up checks and the initial selection): a
   * SIGHUP's re-read configuration is then no longer one that "did not start"
   * (src/cli/reload_rounds.ts).
   */
  onControlStarted?: () => void;
}

/** An AbortSignal fired by SIGINT or SIGTERM, and a function to remove the listeners. */
export function shutdownOnSignals(): { signal: AbortSignal; dispose: () => void } {
  const ac = new AbortController();
  const onSignal = () => ac.abort();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  return {
    signal: ac.signal,
    dispose: () => {
      for (const s of signals) Deno.removeSignalListener(s, onSignal);
    },
  };
}

/** Which interfaces are missing: checks counters and both shapers. */
/** How long start-up waits for missing interfaces: upstream's 12 attempts, 5 s apart. */
export const INTERFACE_WAIT = { attempts: 12, retryDelayS: 5 } as const;

/**
 * The names the shaped interfaces are locked by (docs/operation.md, "One daemon per interface"):
 * in remote mode a router's interface with the router, so that one box shaping two routers whose
 * interfaces share their names (`wan`, `ifb4wan`) runs a daemon for each.
 */
export function lockedInterfaces(
  settings: Pick<Settings, "dl_if" | "ul_if" | "remote" | "remote_port">,
): string[] {
  const on = isRemote(settings) ? ` on ${settings.remote} port ${settings.remote_port}` : "";
  return [settings.dl_if + on, settings.ul_if + on];
}

/**
 * What to do about an interface name that never appeared: `check-config` lists the devices whose
 * root qdisc is the configured shaper's (src/apply/shaper_check.ts).
 */
const MISSING_INTERFACE_HINT = "; correct the setting (on OpenWrt the device's name: eth1, " +
  "pppoe-wan, ifb4eth1, …); `sqm-autorate check-config` names the interfaces here whose root " +
  "qdisc is the configured shaper";

/** The same in remote mode: `check-config` does not list the router's devices. */
const MISSING_REMOTE_INTERFACE_HINT = "; correct the setting to the router's device name " +
  "(`tc qdisc show` on the router lists the devices SQM shapes)";

async function interfacesReady(
  shapers: ShaperPair,
  counters: CounterReader,
): Promise<
  { ready: true } | { ready: false; fatal: boolean; message: string; missingName?: boolean }
> {
  // Both shapers are checked, so the message names every missing interface at once.
  const waiting: string[] = [];
  let missingName = false;
  const pair = [["download_interface", shapers.dl], ["upload_interface", shapers.ul]] as const;
  for (const [setting, sh] of pair) {
    try {
      await sh.check();
    } catch (e) {
      if (
        e instanceof ShaperCheckError &&
        (e.reason === "missing-interface" || e.reason === "unreachable")
      ) {
        // A missing name is the owner's to fix: say which setting gave it (docs/operation.md,
        // "An interface name that does not exist").
        const missing = e.reason === "missing-interface";
        missingName ||= missing;
        const why = missing ? `${e.message} (setting ${setting})` : e.message;
        if (!waiting.includes(why)) waiting.push(why);
        continue;
      }
      return { ready: false, fatal: true, message: (e as Error).message };
    }
  }
  if (waiting.length > 0) {
    return { ready: false, fatal: false, message: waiting.join("; "), missingName };
  }
  let reading = null;
  try {
    reading = await counters.read();
  } catch {
    reading = null;
  }
  if (reading === null) {
    return { ready: false, fatal: false, message: "byte counters of the interfaces unreadable" };
  }
  return { ready: true };
}

/**
 * Runs the daemon until the shutdown signal; resolves with the process exit code
 * (`ExitCode.OK` after a signal, `ExitCode.UNAVAILABLE` when interfaces, shaper or counters
 * are missing after the start-up retries, `ExitCode.CONFIG`/`DATA` for a bad controller).
 */
export async function runDaemon(settings: Settings, deps: DaemonDeps): Promise<number> {
  const log = deps.logger ?? stageLogger("daemon");
  const clock = deps.clock ?? systemClock;
  const random = deps.random ?? Math.random;
  const sleep = deps.sleep ?? realSleep;
  const timing = {
    attempts: deps.timing?.attempts ?? INTERFACE_WAIT.attempts,
    retryDelayS: deps.timing?.retryDelayS ?? INTERFACE_WAIT.retryDelayS,
    settleS: deps.timing?.settleS ?? 2,
    baselineWaitS: deps.timing?.baselineWaitS ?? 10,
    exitRateBudgetS: deps.timing?.exitRateBudgetS ?? EXIT_RATE_BUDGET_S,
  };
  const ownSignals = deps.shutdown === undefined ? shutdownOnSignals() : undefined;
  const shutdown = deps.shutdown ?? ownSignals!.signal;
  const remote = isRemote(settings) && (deps.shapers === undefined || deps.counters === undefined)
    ? createRemoteAdapters(settings, { logger: log })
    : undefined;
  if (remote !== undefined) {
    log.info("remote mode: shaping {host} over ssh", { host: settings.remote });
  }
  // Another program changing the rate is logged (docs/operation.md, "Another program changes
  // the rate").
  const shapers = watchForeignRates(
    deps.shapers ?? remote?.shapers ?? createShaperPair(settings, { logger: stageLogger("apply") }),
    { logger: stageLogger("apply"), clock },
  );
  const counters = deps.counters ?? remote?.counters ??
    createCounterReader(settings, { logger: log });
  // The exit rate is tried even while a router does not answer (docs/remote.md).
  if (shutdown.aborted) shapers.stopping?.();
  else shutdown.addEventListener("abort", () => shapers.stopping?.(), { once: true });
  const measurement = deps.measurement;
  // The start-up's waits (the interfaces', the settle, the baselines') in slices of a tick, the
  // lock files looked at after each, as the control loop does after every tick: a start-up can
  // take a minute (docs/operation.md, "One daemon per interface").
  const startupSleep = async (ms: number) => {
    if (lockWatch === undefined) return await sleep(ms, shutdown);
    const sliceMs = Math.max(1, settings.min_change_interval * 1000);
    for (let left = ms; left > 0 && !shutdown.aborted; left -= sliceMs) {
      await sleep(Math.min(sliceMs, left), shutdown);
      lockWatch?.tick(clock.monotonicS());
    }
  };
  let measuring = false;
  let controller: Ratecontroller | undefined;
  let stats: StatsSink | undefined;
  let loop: ControlLoop | undefined;
  let lock: InstanceLock | undefined;
  let lockWatch: LockWatch | undefined;
  let claimUntilS = 0;
  /** The lock files looked at every `min_change_interval`, at least twice a second (a timer). */
  const watchLock = (held: InstanceLock) =>
    new LockWatch(held, {
      log,
      everyS: settings.min_change_interval,
      now: () => clock.monotonicS(),
    });
  /**
   * Waits out the lock's claim and confirms it, then watches it (a lock file removed while
   * running is made and locked again: docs/operation.md), during start-up at every step and
   * every tick's length of its waits. False (FATAL logged) when another daemon took a lock file
   * back.
   */
  const confirmLock = async (): Promise<boolean> => {
    if (lock === undefined || lockWatch !== undefined) return true;
    const waitS = claimUntilS - clock.monotonicS();
    if (waitS > 0) await sleep(waitS * 1000, shutdown);
    try {
      lock.confirm();
    } catch (e) {
      if (!(e instanceof InstanceLockedError)) throw e;
      log.fatal("{message}", { message: e.message });
      return false;
    }
    lockWatch = watchLock(lock);
    return true;
  };

  // Set when the exit rate is asked: until then, after the shutdown signal, a tick's change is not
  // made (src/daemon/stop_gate.ts).
  let exiting = false;

  const cleanup = async (withExitRate: boolean) => {
    if (withExitRate && loop !== undefined) {
      exiting = true;
      await applyExitRate(settings, loop, { log, budgetS: timing.exitRateBudgetS });
    }
    await shapers.close?.().catch(() => {});
    if (measuring) {
      try {
        await measurement.stop();
      } catch (e) {
        log.error("stopping the measurement failed: {error}", { error: String(e) });
      }
    }
    await stats?.flush().catch(() => {});
    await counters.close?.().catch(() => {});
    for (const a of deps.adjusters ?? []) a.close?.();
    controller?.close?.();
    ownSignals?.dispose();
    lockWatch?.close();
    await lock?.release().catch(() => {});
  };

  try {
    // 0. One daemon per interface (docs/operation.md).
    if (deps.stateDir !== undefined) {
      try {
        // The lock keeps the system's clocks, not `clock`: it weighs real files' mtimes.
        lock = await acquireInstanceLock(deps.stateDir, { interfaces: lockedInterfaces(settings) });
        for (const why of lock.pidNotWritten) {
          log.warn("cannot write the PID into {why} (the interface is locked all the same)", {
            why,
          });
        }
        for (const pid of lock.takenOverFrom) {
          log.info("took over the interface lock of PID {pid}, which is no longer running", {
            pid,
          });
        }
        // A lock file this daemon made may be one that a running daemon lost to an `rm -rf`
        // within its last tick: that one takes it back, and this one gives way before it shapes
        // (`confirmLock`; docs/operation.md, "One daemon per interface").
        claimUntilS = clock.monotonicS() + (lock.made ? LOCK_CLAIM_S : 0);
        if (!lock.made) {
          lockWatch = watchLock(lock);
        }
      } catch (e) {
        if (e instanceof InstanceLockedError) {
          log.fatal("{message}", { message: e.message });
          await cleanup(false);
          return ExitCode.LOCKED;
        }
        log.error("cannot lock the interfaces in {dir} (running without the lock): {error}", {
          dir: deps.stateDir,
          error: String(e),
        });
      }
    }

    // 1. Interfaces, shapers and counters (Lua: 12 attempts, 5 s apart). The wait is logged at
    // WARN when it starts and when its reason changes, each unchanged attempt at DEBUG.
    let waitingFor = "";
    for (let attempt = 1;; attempt++) {
      const r = await interfacesReady(shapers, counters);
      lockWatch?.tick(clock.monotonicS());
      if (r.ready) break;
      if (r.fatal) {
        log.fatal("{message}", { message: r.message });
        await cleanup(false);
        return ExitCode.UNAVAILABLE;
      }
      if (attempt >= timing.attempts) {
        log.fatal(
          "interfaces {dl} / {ul} not usable after {n} attempts {s} s apart: {message}{hint}",
          {
            dl: settings.dl_if,
            ul: settings.ul_if,
            n: attempt,
            s: timing.retryDelayS,
            message: r.message,
            hint: !r.missingName
              ? ""
              : isRemote(settings)
              ? MISSING_REMOTE_INTERFACE_HINT
              : MISSING_INTERFACE_HINT,
          },
        );
        await cleanup(false);
        return ExitCode.UNAVAILABLE;
      }
      const waitValues = {
        attempt,
        n: timing.attempts,
        s: timing.retryDelayS,
        message: r.message,
      };
      const waitMessage = "waiting for interfaces (attempt {attempt}/{n}, every {s} s): {message}";
      if (r.message === waitingFor) log.debug(waitMessage, waitValues);
      else log.warning(waitMessage, waitValues);
      waitingFor = r.message;
      if (!(await confirmLock())) {
        await cleanup(false);
        return ExitCode.LOCKED;
      }
      await startupSleep(timing.retryDelayS * 1000);
      if (shutdown.aborted) {
        await cleanup(false);
        return ExitCode.OK;
      }
    }

    // 2. The controller (a bad Lua script should fail before we touch the shaper).
    // Asked where the daemon built the shapers: on this host, or on the router over ssh.
    const readKind = deps.linkKind ??
      (deps.shapers === undefined ? remote?.linkKind ?? readLinkKind : undefined);
    const [dlKind, ulKind] = await Promise.all([
      readKind?.(settings.dl_if),
      readKind?.(settings.ul_if),
    ]);
    const swapped = swappedInterfaces({
      dl_if: settings.dl_if,
      ul_if: settings.ul_if,
      dlKind,
      ulKind,
    });
    if (swapped !== undefined) {
      log.warning("{swapped}; shaping the download at the upload rates as configured", { swapped });
    }
    const probes = dlCarriesProbes({ ifname: settings.dl_if, kind: dlKind });
    const queues = shaperQueues(shapers, probes);
    const described = describeShaperQueues(queues, settings.rate_controller.trim(), {
      probesBy: probes.by,
    });
    log.info("{message}", { message: described.message });
    if (described.warn) {
      log.warning(
        "rate_controller capacity: the download FIFO carries the probes and its size is unknown; " +
          "it needs a flow-isolating leaf (fq_codel) or a tbf/bfifo queue (docs/controllers.md)",
      );
    }
    try {
      controller = deps.controller ?? await createRatecontroller({
        settings,
        clock,
        random,
        logger: stageLogger("ratecontroller"),
        owd: measurement.owd,
        reselect: measurement.reselect,
        shaperQueues: queues,
      }, { luaFactory: deps.luaFactory });
    } catch (e) {
      log.fatal("cannot create the rate controller: {error}", { error: (e as Error).message });
      await cleanup(false);
      return controllerFailureExitCode(e);
    }
    // Which script decides, for an owner reading the log (docs/operation.md, "Logging").
    if (controller.script !== undefined) {
      const named = controller.name === controller.script ? "" : ` ("${controller.name}")`;
      log.info("loaded Lua ratecontroller {script}{named}", { script: controller.script, named });
    }
    stats = deps.stats === null ? undefined : deps.stats ?? await createStatsSink(settings, {
      logger: stageLogger("report"),
      flushEveryRows: statsRowsPerFlush(decisionPeriodS(controller, settings)),
    });
    loop = new ControlLoop({
      settings,
      clock,
      owd: measurement.owd,
      reselect: measurement.reselect,
      controller,
      adjusters: deps.adjusters,
      counters,
      shaper: gatedForStop(shapers, () => shutdown.aborted && !exiting),
      stats,
      pinging: measurement.pause && measurement.resume
        ? { pause: () => measurement.pause!(), resume: () => measurement.resume!() }
        : undefined,
      observers: deps.observers,
    });

    // 3. Minimum rates so the first baselines are measured without bufferbloat; settle.
    if (!(await confirmLock())) {
      await cleanup(false);
      return ExitCode.LOCKED;
    }
    // Errors kept, not logged by the loop: a refusal for want of privilege is one FATAL below,
    // another failure one ERROR here, now, and the loop's retries log the same error at DEBUG
    // (docs/operation.md, "Not allowed to change the shaper", "A change that fails at start-up").
    const errors = new Map<string, string>();
    await loop.setRates(settings.min_dl_rate, settings.min_ul_rate, { errors });
    const refused = privilegeRefusal(errors, [settings.dl_if, settings.ul_if]);
    if (refused !== undefined) {
      log.fatal("{message}", { message: refused });
      await cleanup(false);
      return ExitCode.UNAVAILABLE;
    }
    for (const [ifname, error] of errors) {
      log.error(
        "start-up: setting the minimum rate on {ifname} failed: {error}; going on, and retrying " +
          "it every tick once control starts",
        { ifname, error },
      );
    }
    await startupSleep(timing.settleS * 1000);
    if (shutdown.aborted) {
      await cleanup(true);
      return ExitCode.OK;
    }

    // 4. Measurement, then wait until 5 reflectors have fresh baselines (at most 10 s).
    measuring = true;
    await measurement.start();
    const waitUntil = clock.monotonicS() + timing.baselineWaitS;
    while (!shutdown.aborted && clock.monotonicS() < waitUntil) {
      const d = collectDeltas(measurement.owd, clock.monotonicS(), {
        tickInterval: settings.tick_interval,
      });
      if (!d.tooFew) break;
      await startupSleep(settings.tick_interval * 1000);
    }
    if (shutdown.aborted) {
      await cleanup(true);
      return ExitCode.OK;
    }

    // 5. Control from round(0.6 × base) until the signal.
    await loop.start();
    deps.onControlStarted?.();
    const summary = new PeriodicSummary((line) => log.info("{summary}", { summary: line }), {
      periodS: deps.summaryPeriodS,
      memory: () => Deno.memoryUsage(),
    });
    const control = loop;
    const heapTrim = new HeapTrim();
    await runControlLoop(control, {
      signal: shutdown,
      clock,
      intervalS: () => control.nextIntervalS,
      sleep: deps.tickSleep ?? sleep,
      onTick: (result, nowS) => {
        summary.record(nowS, result);
        lockWatch?.tick(nowS);
        heapTrim.tick();
      },
    });
    summary.flush(clock.monotonicS());
    log.info("shutting down");
    await cleanup(true);
    return ExitCode.OK;
  } catch (e) {
    log.fatal("daemon failed: {error}", { error: String(e) });
    await cleanup(true).catch(() => {});
    return ExitCode.FAILURE;
  }
}

/**
 * Sets the `exit_rate` (base, min or leave) on both shapers, waiting at most `budgetS` for it
 * (what is still unconfirmed then is given up by the shapers' close).
 */
async function applyExitRate(
  settings: Settings,
  loop: ControlLoop,
  options: { log: Logger; budgetS: number },
): Promise<void> {
  if (settings.exit_rate === "leave") return;
  const [dl, ul] = settings.exit_rate === "min"
    ? [settings.min_dl_rate, settings.min_ul_rate]
    : [settings.base_dl_rate, settings.base_ul_rate];
  options.log.info("setting exit rate ({kind}): download {dl} kbit/s, upload {ul} kbit/s", {
    kind: settings.exit_rate,
    dl,
    ul,
  });
  const setting = loop.setRates(dl, ul, { exit: true });
  if (!(await settledWithin(setting, options.budgetS * 1000))) {
    options.log.warn("exit rate not confirmed within {s} s; exiting without it", {
      s: options.budgetS,
    });
    return;
  }
  // A change not tried (the router away) is logged by the loop at DEBUG only: its outcome here.
  const set = await setting;
  const missed: string[] = [];
  if (!set.dl) missed.push("download");
  if (!set.ul) missed.push("upload");
  if (missed.length > 0) {
    options.log.warn("exit rate not set ({which}); exiting without it", {
      which: missed.join(", "),
    });
  }
}
