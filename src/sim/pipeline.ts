/**
 * The daemon's measurement and control pipeline assembled on simulated I/O: synthetic ping
 * replies → the real Baseliner → the real ReflectorSelector → the real control loop with the
 * real ratecontroller (EWMA or Lua) and plugins → a shaper that sets the simulated link rate,
 * and byte counters read from the simulated link.
 */
import { stageLogger } from "../log/mod.ts";
import { createOwdState, type OwdState, type ReselectRequester } from "../baseline/owd_state.ts";
import { Baseliner } from "../baseline/baseliner.ts";
import { ReflectorSelector } from "../reflectors/selector.ts";
import type { Shaper, ShaperKind, ShaperPair } from "../apply/shaper.ts";
import { ControlLoop } from "../control/loop.ts";
import { createRatecontroller, type RateAdjuster } from "../ratecontroller/mod.ts";
import { createLuaRatecontroller, createPluginManager, pluginRefs } from "../lua/mod.ts";
import type { CounterReader, CounterReading } from "../counters/types.ts";
import type { StatsSink } from "../report/stats.ts";
import type { PingReply } from "../measure/types.ts";
import type { SimHooks, SimPipeline } from "./engine.ts";

/** Number of initial peers, as upstream's six built-in initial reflectors. */
const INITIAL_PEERS = 6;

/** A `Shaper` whose rate is the simulated link's shaper rate. */
export class SimShaper implements Shaper {
  /** Reported kind. */
  readonly kind: ShaperKind = "cake";
  /** Interface name. */
  readonly ifname: string;
  readonly #set: (kbit: number) => void;
  #rate = 0;
  /** Number of successful rate changes. */
  changes = 0;

  /** `set` applies the rate to the link model. */
  constructor(ifname: string, set: (kbit: number) => void) {
    this.ifname = ifname;
    this.#set = set;
  }

  /** Applies the rate to the simulated link at once. */
  setRate(kbit: number): Promise<void> {
    if (!(kbit > 0) || !Number.isFinite(kbit)) {
      return Promise.reject(new RangeError(`${this.ifname}: invalid rate ${kbit} kbit/s`));
    }
    this.#rate = kbit;
    this.changes++;
    this.#set(kbit);
    return Promise.resolve();
  }

  /** The simulated qdisc always exists. */
  check(): Promise<void> {
    return Promise.resolve();
  }

  /** The rate last set. */
  readRate(): Promise<number> {
    return Promise.resolve(this.#rate);
  }
}

/** A `CounterReader` over the simulated link's shaper byte counters. */
export class SimCounterReader implements CounterReader {
  readonly #hooks: Pick<SimHooks, "counters">;

  /** Reads from the engine's counters. */
  constructor(hooks: Pick<SimHooks, "counters">) {
    this.#hooks = hooks;
  }

  /** Both counters, as `ip -j -s link` would give them. */
  read(): Promise<CounterReading | null> {
    return Promise.resolve({
      dlBytes: Math.floor(this.#hooks.counters.dlBytes()),
      ulBytes: Math.floor(this.#hooks.counters.ulBytes()),
      dlIfindex: 1,
      ulIfindex: 2,
    });
  }
}

/** Counts reselection requests on the way to the selector. */
class CountingRequester {
  count = 0;
  constructor(readonly target: { requestReselect(reason: string): void }) {}
  requestReselect(reason: string): void {
    this.count++;
    this.target.requestReselect(reason);
  }
}

/** Options of the daemon pipeline. */
export interface DaemonPipelineOptions {
  /** Statistics sink for the control loop (stats CSV, speed history). */
  stats?: StatsSink;
}

/** The measurement half of the pipeline: OWD state, baseliner, selector. */
export interface SimMeasurement {
  /** Shared OWD state (peers published by the selector). */
  owd: OwdState;
  /** The real baseliner. */
  baseliner: Baseliner;
  /** The real selector, stepped in virtual time. */
  selector: ReflectorSelector;
  /** Reselect requester that counts requests and forwards them to the selector. */
  reselect: CountingRequester;
}

/** Builds the measurement half on the engine's hooks. */
export function simMeasurement(hooks: SimHooks): SimMeasurement {
  const { settings } = hooks;
  const owd = createOwdState(hooks.pool.slice(0, INITIAL_PEERS));
  const selector = new ReflectorSelector({
    owd,
    pool: hooks.pool,
    numReflectors: settings.num_reflectors,
    tickS: settings.tick_interval,
    peerReselectionTimeMin: settings.peer_reselection_time,
    random: hooks.random,
  });
  const reselect = new CountingRequester(selector);
  const baseliner = new Baseliner(owd, { tickS: settings.tick_interval, reselect });
  selector.start(hooks.clock.monotonicS());
  return { owd, baseliner, selector, reselect };
}

/**
 * The daemon pipeline on simulated I/O. The control loop is the project's `ControlLoop`
 * (src/control/); see `buildControl` below.
 */
export async function daemonPipeline(
  hooks: SimHooks,
  options: DaemonPipelineOptions = {},
): Promise<SimPipeline> {
  const m = simMeasurement(hooks);
  const dl = new SimShaper("sim-dl", hooks.setDlRate);
  const ul = new SimShaper("sim-ul", hooks.setUlRate);
  const control = await buildControl({
    hooks,
    owd: m.owd,
    reselect: m.reselect,
    shapers: { dl, ul },
    counters: new SimCounterReader(hooks),
    stats: options.stats,
  });
  return {
    name: control.name,
    peers: () => m.owd.peers,
    onReply: (reply: PingReply) => void m.baseliner.ingest(reply),
    advance: () => {
      const now = hooks.clock.monotonicS();
      if (now >= m.selector.nextWakeS) m.selector.step(now);
    },
    tick: () => control.tick(),
    reselects: () => m.reselect.count,
    close: () => {
      m.selector.stop();
      return control.close();
    },
  };
}

/** What `buildControl` needs. */
interface ControlParts {
  hooks: SimHooks;
  owd: OwdState;
  reselect: ReselectRequester;
  shapers: ShaperPair;
  counters: CounterReader;
  stats?: StatsSink;
}

/** The control loop as the engine drives it. */
interface SimControl {
  name: string;
  tick(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The real controller (`createRatecontroller`: EWMA, or Lua through the Lua factory) and the
 * real `ControlLoop`, started at once like upstream Lua (all threads start together; the loop
 * sets both shapers to 0.6 × base).
 */
async function buildControl(parts: ControlParts): Promise<SimControl> {
  const { hooks } = parts;
  const logger = stageLogger("sim");
  const controller = await createRatecontroller({
    settings: hooks.settings,
    clock: hooks.clock,
    random: hooks.random,
    logger,
    owd: parts.owd,
    reselect: parts.reselect,
  }, { luaFactory: (context) => createLuaRatecontroller(context) });
  let plugins: RateAdjuster | undefined;
  try {
    plugins = await createPluginManager({
      settings: hooks.settings,
      logger: stageLogger("lua"),
      clock: hooks.clock,
      random: hooks.random,
    });
  } catch (e) {
    controller.close?.();
    throw e;
  }
  const loop = new ControlLoop({
    settings: hooks.settings,
    clock: hooks.clock,
    random: hooks.random,
    owd: parts.owd,
    reselect: parts.reselect,
    controller,
    adjusters: plugins === undefined ? [] : [plugins],
    counters: parts.counters,
    shaper: parts.shapers,
    stats: parts.stats,
  });
  await loop.start();
  const pluginNames = pluginRefs(hooks.settings).map((r) => r.replace(/^.*[\\/]|\.lua$/g, ""));
  return {
    name: controller.name + (pluginNames.length > 0 ? ` + ${pluginNames.join(" + ")}` : ""),
    tick: async () => {
      await loop.tick();
    },
    close: () => {
      controller.close?.();
      plugins?.close?.();
      return Promise.resolve();
    },
  };
}
