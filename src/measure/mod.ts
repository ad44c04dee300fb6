/**
 * The measurement pipeline: pinger subprocess → parser → baseliner → `OwdState`, plus the
 * reflector selector. `createMeasurement` wires it for the daemon; the pieces are exported so
 * the simulator can feed synthetic replies into the same baseliner and selector.
 */
import { Baseliner } from "../baseline/baseliner.ts";
import { createOwdState } from "../baseline/owd_state.ts";
import type { MeasurementService, OwdState, ReselectRequester } from "../control/ports.ts";
import type { Settings } from "../config/types.ts";
import { stageLogger } from "../log/mod.ts";
import { INITIAL_PEERS, initialPeersFor, loadPool } from "../reflectors/pool.ts";
import { ReflectorSelector, SelectorRunner, type TimerApi } from "../reflectors/selector.ts";
import { ReflectorSpread } from "../reflectors/spread.ts";
import { HurriedStart } from "../reflectors/hurried_start.ts";
import { type Clock, type RandomSource, type Sleep, systemClock } from "../util/clock.ts";
import { choosePinger, type PingerChoice, type Probe } from "./backends.ts";
import { type Pinger, ProcessPinger } from "./pinger.ts";
import type { Spawner } from "./supervisor.ts";
import type { PingReply } from "./types.ts";

export * from "./types.ts";
export * from "./parsers.ts";
export * from "./backends.ts";
export * from "./pinger.ts";
export * from "./supervisor.ts";

const log = stageLogger("measure");

/** Everything `createMeasurement` can be given instead of the real thing. */
export interface MeasurementDeps {
  /** Default `systemClock`. */
  clock?: Clock;
  /** Default `Math.random`. */
  random?: RandomSource;
  /** Pool to use instead of loading `reflector_list_file` / the embedded list. */
  pool?: readonly string[];
  /** Initial peers; default upstream's six (docs/algorithm.md §8.1). */
  initialPeers?: readonly string[];
  /** Reads the reflector list file. */
  readTextFile?: (path: string) => Promise<string>;
  /** A ready-made pinger (skips tool detection), e.g. a simulator's. */
  pinger?: Pinger;
  /** Pinger choice instead of detection. */
  pingerChoice?: PingerChoice;
  /** Probe used for tool detection. */
  probe?: Probe;
  /** Prefix for every pinger command (e.g. `ip netns exec NS`). */
  commandPrefix?: readonly string[];
  /** Child spawner. */
  spawn?: Spawner;
  /** Sleep for backoff and stagger. */
  sleep?: Sleep;
  /** Timers for the selector runner. */
  timers?: TimerApi;
  /** Timestamp → echo fallback silence, s. Default 10. */
  fallbackAfterS?: number;
  /** Sees every reply of a current peer before the baseliner (metrics); must be cheap. */
  onReply?: (reply: PingReply) => void;
}

/** The running pipeline, with its parts exposed for diagnostics and the simulator. */
export interface Measurement extends MeasurementService {
  /** The baseliner writing `owd`. */
  readonly baseliner: Baseliner;
  /** The reflector selector (also the `reselect` requester). */
  readonly selector: ReflectorSelector;
  /** The pinger, once started. */
  readonly pinger: Pinger | undefined;
  /** Feeds one reply as if the pinger had produced it (filtered to current peers). */
  ingest(reply: PingReply): void;
  /** Stops the pinger (idle mode); reflectors, selector and baselines stay. */
  pause(): Promise<void>;
  /** Restarts the pinger after `pause()`, bridging the gap in the baselines. */
  resume(): Promise<void>;
}

/**
 * Builds the measurement pipeline from the settings (`tick_interval`, `num_reflectors`,
 * `peer_reselection_time`, `reflector_list_file`, `measurement_type`, `pinger*`). Nothing runs
 * until `start()`, which loads the pool, picks the pinger (throwing a message that names the
 * problem when none is usable) and starts pinging and selecting.
 */
export function createMeasurement(settings: Settings, deps: MeasurementDeps = {}): Measurement {
  const clock = deps.clock ?? systemClock;
  const random = deps.random ?? Math.random;
  const owd: OwdState = createOwdState([...(deps.initialPeers ?? INITIAL_PEERS)]);
  let peerSet = new Set(owd.peers);
  let pinger: Pinger | undefined = deps.pinger;
  let running = false;
  let stopRequested = false; // stop() during an unfinished start(): do not start afterwards
  /** Monotonic time of `pause()` while paused (idle mode). */
  let pausedAtS: number | undefined;
  let peersChosen = false; // initial peers are chosen once, not again on a restart

  const spread = new ReflectorSpread(owd, {
    tickS: settings.tick_interval,
    reselect: { requestReselect: (reason) => selector.requestReselect(reason) },
  });
  const selector = new ReflectorSelector({
    owd,
    avoid: (ip) => spread.avoided(ip),
    prefer: (ip) => spread.preferred(ip),
    pool: deps.pool ?? [],
    numReflectors: settings.num_reflectors,
    tickS: settings.tick_interval,
    peerReselectionTimeMin: settings.peer_reselection_time,
    random,
    startDelayS: () => pinger?.startDelayS ?? 0,
    handOverDelayS: () => pinger?.handOverDelayS ?? 0,
    spawnedS: () => pinger?.spawnedS ?? -Infinity,
    onStillTooFew: () => {
      pinger?.restartKeptSilent?.().catch((e) =>
        log.error("Could not restart the pinger: {e}", { e: String(e) })
      );
    },
    onPeers: (peers, _phase, probes) => {
      peerSet = new Set(peers);
      pinger?.setReflectors(peers, probes).catch((e) =>
        log.error("Could not switch the pinger to new reflectors: {e}", { e: String(e) })
      );
    },
  });
  const baseliner = new Baseliner(owd, { tickS: settings.tick_interval, reselect: selector });
  const hurried = new HurriedStart({
    tickS: settings.tick_interval,
    peers: () => owd.peers,
    suspected: (ip, judged) => spread.suspected(ip, judged),
    hurry: (periodS) => selector.hurryInitial(periodS),
  });
  const runner = new SelectorRunner(selector, {
    now: () => clock.monotonicS(),
    timers: deps.timers,
  });

  const ingest = (reply: PingReply) => {
    // Like upstream's receivers: only current peers count (late lines of an old child do not).
    if (!peerSet.has(reply.reflector)) return;
    deps.onReply?.(reply);
    baseliner.ingest(reply);
    spread.observe(reply.reflector, reply.receiveTimeS);
    if (selector.reselectionCount === 0 && hurried.observe()) {
      log.info("Some initial reflectors look faulty: probing the initial peers faster");
    }
  };

  const reselect: ReselectRequester = {
    requestReselect: (reason, options) => selector.requestReselect(reason, options),
  };

  return {
    owd,
    reselect,
    baseliner,
    selector,
    get pinger() {
      return pinger;
    },
    ingest,
    async start() {
      if (running) return;
      stopRequested = false;
      if (!deps.pool) {
        const pool = await loadPool(settings.reflector_list_file, {
          readTextFile: deps.readTextFile,
          warn: (m) => log.warning("{m}", { m }),
        });
        selector.setPool(pool);
        log.info("Reflector pool: {n} reflectors from {src}", {
          n: pool.length,
          src: settings.reflector_list_file || "the embedded list",
        });
        if (!deps.initialPeers) {
          owd.peers = initialPeersFor(pool, { count: settings.num_reflectors, random });
          peerSet = new Set(owd.peers);
        }
      } else if (!deps.initialPeers && !peersChosen) {
        // A pool loaded by the caller (run checks the list before anything starts).
        owd.peers = initialPeersFor(deps.pool, { count: settings.num_reflectors, random });
        peerSet = new Set(owd.peers);
      }
      peersChosen = true;
      if (!pinger) {
        const choice = deps.pingerChoice ?? await choosePinger(settings.pinger, {
          binary: settings.pinger_binary || undefined,
          probe: deps.probe,
          commandPrefix: deps.commandPrefix,
        });
        pinger = new ProcessPinger({
          tool: choice.tool,
          binary: choice.binary,
          fping: choice.fping,
          mode: settings.measurement_type === "icmp" ? "echo" : "timestamp",
          tickS: settings.tick_interval,
          iface: settings.pinger_interface,
          source: settings.pinger_source,
          fwmark: settings.pinger_fwmark,
          clock,
          onReply: ingest,
          commandPrefix: deps.commandPrefix,
          fallbackAfterS: deps.fallbackAfterS,
          spawn: deps.spawn,
          sleep: deps.sleep,
        });
      }
      if (stopRequested) return;
      running = true;
      await pinger.start(owd.peers);
      if (stopRequested) return; // stop() is already stopping the pinger
      runner.start();
    },
    async pause() {
      if (!running || pausedAtS !== undefined) return;
      pausedAtS = clock.monotonicS();
      // No reselection while nothing is pinged: each would find no reflector answering (a WARN
      // and a growing backoff). One due meanwhile runs after resume.
      runner.pause();
      await pinger?.stop();
    },
    async resume() {
      if (!running || pausedAtS === undefined) return;
      baseliner.bridgeGap(pausedAtS, clock.monotonicS());
      pausedAtS = undefined;
      await pinger?.start(owd.peers);
      runner.resume();
    },
    async stop() {
      stopRequested = true;
      if (!running) return;
      running = false;
      runner.stop();
      await pinger?.stop();
    },
  };
}
