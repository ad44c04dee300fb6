/**
 * The daemon's measurement and control pipeline assembled on simulated I/O: synthetic ping
 * replies → the real Baseliner → the real ReflectorSelector → the real control loop with the
 * real ratecontroller (EWMA or Lua) and plugins → a shaper that sets the simulated link rate,
 * and byte counters read from the simulated link.
 */
import { stageLogger } from "../log/mod.ts";
import type {
  CounterReader,
  CounterReading,
  OwdState,
  PingControl,
  ReselectRequester,
  ReselectRequestOptions,
  Shaper,
  ShaperKind,
  ShaperPair,
  StatsSink,
} from "../control/ports.ts";
import type { TimerApi } from "../reflectors/selector.ts";
import { type Clock, isDue } from "../util/clock.ts";
import { createMeasurement, type Measurement, type Pinger } from "../measure/mod.ts";
import { sameMembers, sameSlow } from "../measure/pinger.ts";
import { ControlLoop } from "../control/loop.ts";
import { createRatecontroller } from "../ratecontroller/mod.ts";
import type { RateAdjuster, Ratecontroller } from "../control/ratecontroller_port.ts";
import { type PluginSections, usesLua } from "../lua/config.ts";
import { pluginRefs } from "../lua/plugin_refs.ts";
import { loadLua } from "../lua/load.ts";
import type { PingerTool, PingReply, ProbeMode, ProbePlan } from "../measure/types.ts";
import type { SimHooks, SimPipeline } from "./engine.ts";
import { type SimPingerKind, simPingerKind } from "./pinger_kind.ts";

/** Number of initial peers, as upstream's six built-in initial reflectors. */
const INITIAL_PEER_COUNT = 6;

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

/**
 * The control loop's view of the virtual clock: a delayed counter read (`SimCounters.beginRead`)
 * answers some time after the tick, and the loop's clock reads that end until the engine's time
 * passes it (never backwards), as the daemon's clock goes on while its `ip` coprocess answers.
 */
export class SimReadClock implements Clock {
  readonly #base: Clock;
  #doneS = -Infinity;

  /** Over the engine's clock. */
  constructor(base: Clock) {
    this.#base = base;
  }

  /** The engine's time, or the last read's end while that is later. */
  monotonicS(): number {
    return Math.max(this.#base.monotonicS(), this.#doneS);
  }

  /** Wall time moved as `monotonicS`. */
  wallMs(): number {
    return this.#base.wallMs() + 1000 * (this.monotonicS() - this.#base.monotonicS());
  }

  /** A read started now ends `delayS` later. */
  readTakes(delayS: number): void {
    this.#doneS = this.#base.monotonicS() + delayS;
  }
}

/** A `CounterReader` over the simulated link's shaper byte counters. */
export class SimCounterReader implements CounterReader {
  readonly #hooks: Pick<SimHooks, "counters">;
  readonly #clock: SimReadClock | undefined;

  /** Reads from the engine's counters; a delayed read moves `clock` to its end. */
  constructor(hooks: Pick<SimHooks, "counters">, clock?: SimReadClock) {
    this.#hooks = hooks;
    this.#clock = clock;
  }

  /** Both counters, as `ip -j -s link` would give them. */
  read(): Promise<CounterReading | null> {
    const read = this.#hooks.counters.beginRead?.();
    if (read !== undefined) this.#clock?.readTakes(read.doneS);
    return Promise.resolve({
      dlBytes: Math.floor(this.#hooks.counters.dlBytes()),
      ulBytes: Math.floor(this.#hooks.counters.ulBytes()),
      dlIfindex: 1,
      ulIfindex: 2,
    });
  }
}

/** Counts reselection requests on the way to the selector. */
class CountingRequester implements ReselectRequester {
  count = 0;
  constructor(readonly target: ReselectRequester) {}
  requestReselect(reason: string, options?: ReselectRequestOptions): void {
    this.count++;
    this.target.requestReselect(reason, options);
  }
}

/**
 * Timers in virtual time for the selector's runner: they fire from `runDue(now)` when `isDue`
 * (the comparison their users share). A timer with a positive delay never fires at the instant it
 * was armed: time has to move first, so a re-arming callback cannot spin at one instant.
 */
export class VirtualTimers implements TimerApi {
  #clock: { monotonicS(): number };
  #timers = new Map<number, { at: number; armedAt: number; fn: () => void }>();
  #nextId = 1;

  /** Timers are relative to `clock`. */
  constructor(clock: { monotonicS(): number }) {
    this.#clock = clock;
  }

  /** Registers `fn` to run `ms` milliseconds of virtual time from now. */
  setTimeout(fn: () => void, ms: number): number {
    const id = this.#nextId++;
    const now = this.#clock.monotonicS();
    const delayS = Math.max(0, ms) / 1000;
    // A zero delay may run in the same pass; a positive one only once time has moved.
    this.#timers.set(id, { at: now + delayS, armedAt: delayS > 0 ? now : -Infinity, fn });
    return id;
  }

  /** Cancels a timer. */
  clearTimeout(id: unknown): void {
    this.#timers.delete(id as number);
  }

  /** Runs every timer due by `now`, earliest first (also ones armed while running). */
  runDue(now: number): void {
    for (;;) {
      let id = -1;
      let at = Infinity;
      for (const [k, t] of this.#timers) {
        if (t.at < at && isDue(now, t.at) && t.armedAt < now) {
          at = t.at;
          id = k;
        }
      }
      if (id < 0) return;
      const t = this.#timers.get(id)!;
      this.#timers.delete(id);
      t.fn();
    }
  }
}

/**
 * The pinger as `createMeasurement` sees it. The engine's reflector field does the probing
 * (of `reflectors`) and hands the replies to `Measurement.ingest`, like the pinger's
 * `onReply`.
 */
export class SimPinger implements Pinger {
  /** Reported tool. */
  readonly tool: PingerTool;
  /** Probe mode. */
  readonly mode: ProbeMode;
  #reflectors: readonly string[] = [];
  #running = false;
  /** Times the probed set was switched (`setReflectors`): a new fping on a router. */
  switches = 0;

  /** `kind` follows `pinger` and `measurement_type` (`simPingerKind`). */
  constructor(kind: SimPingerKind) {
    this.tool = kind.tool;
    this.mode = kind.mode;
  }

  /** Reflectors being probed. */
  get reflectors(): readonly string[] {
    return this.#reflectors;
  }

  /** Starts probing `reflectors`. */
  start(reflectors: readonly string[]): Promise<void> {
    this.#reflectors = [...reflectors];
    this.#running = true;
    return Promise.resolve();
  }

  /** How the reflectors are probed; undefined: each every tick. */
  plan: ProbePlan | undefined;

  /**
   * Switches to new reflectors. The same set and plan again (the selector's cycle published
   * again on the loop's request) starts no new child, only restarts a silent one
   * (`ProcessPinger`): no switch.
   */
  setReflectors(reflectors: readonly string[], options?: ProbePlan): Promise<void> {
    const same = sameMembers(reflectors, this.#reflectors) &&
      options?.periodS === this.plan?.periodS &&
      sameSlow(options?.slow, this.plan?.slow);
    if (!same) this.switches++;
    this.#reflectors = [...reflectors];
    this.plan = options;
    return Promise.resolve();
  }

  /** Stops probing. */
  stop(): Promise<void> {
    this.#running = false;
    this.#reflectors = [];
    return Promise.resolve();
  }

  /** Replies go through `Measurement.ingest`; this iterator only ends. */
  replies(): AsyncIterableIterator<PingReply> {
    const it: AsyncIterableIterator<PingReply> = {
      next: () => Promise.resolve({ done: true, value: undefined }),
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }

  /** Whether `start` was called and `stop` not yet. */
  get running(): boolean {
    return this.#running;
  }
}

/** Options of the daemon pipeline. */
export interface DaemonPipelineOptions {
  /** Statistics sink for the control loop (stats CSV, speed history). */
  stats?: StatsSink;
  /** UCI sections for Lua's `settings.plugin(name)` (`simulate --config FILE`). */
  pluginSections?: PluginSections;
  /**
   * Seed of the Lua plugins' own `math.random`, derived from the run's seed so that loading
   * plugins never draws from the controller's random stream. Default 0.
   */
  luaSeed?: number;
  /** Wraps the controller before the loop gets it (bench/soak.ts times each `decide` so). */
  wrapController?: (controller: Ratecontroller) => Ratecontroller;
}

/** The measurement half of the pipeline, on the daemon's own wiring. */
export interface SimMeasurement {
  /** The daemon's measurement pipeline (`createMeasurement`): baseliner, selector, peer filter. */
  measurement: Measurement;
  /** Shared OWD state (peers published by the selector). */
  owd: OwdState;
  /** The pinger stand-in: what is being probed. */
  pinger: SimPinger;
  /** Virtual timers of the selector runner. */
  timers: VirtualTimers;
  /** Reselect requester for the control loop; counts and forwards to the selector. */
  reselect: CountingRequester;
  /** Feeds a reply (filtered to current peers, then the baseliner). */
  ingest(reply: PingReply): void;
  /** Fires the selector's timers due at the clock's time. */
  advance(): void;
}

/**
 * Builds and starts the daemon's measurement pipeline (`createMeasurement`) on the engine's
 * hooks: the synthetic pool, the first six reflectors as initial peers (upstream has six
 * built-in ones), the virtual clock, timers and random source, and a `SimPinger`.
 */
export async function simMeasurement(hooks: SimHooks): Promise<SimMeasurement> {
  const { settings } = hooks;
  const pinger = new SimPinger(simPingerKind(settings));
  const timers = new VirtualTimers(hooks.clock);
  const measurement = createMeasurement(settings, {
    clock: hooks.clock,
    random: hooks.random,
    pool: hooks.pool,
    initialPeers: hooks.pool.slice(0, INITIAL_PEER_COUNT),
    pinger,
    timers,
  });
  await measurement.start();
  return {
    measurement,
    owd: measurement.owd,
    pinger,
    timers,
    reselect: new CountingRequester(measurement.reselect),
    ingest: (reply) => measurement.ingest(reply),
    advance: () => timers.runDue(hooks.clock.monotonicS()),
  };
}

/**
 * The daemon pipeline on simulated I/O. The control loop is the project's `ControlLoop`
 * (src/control/); see `buildControl` below.
 */
export async function daemonPipeline(
  hooks: SimHooks,
  options: DaemonPipelineOptions = {},
): Promise<SimPipeline> {
  const m = await simMeasurement(hooks);
  // Delayed counter reads move the loop's clock (docs/controllers.md, "v84").
  const loopClock = hooks.counters.beginRead === undefined
    ? undefined
    : new SimReadClock(hooks.clock);
  // A remote router's reads and rate changes take time: the tick ends after them (v87).
  const roundTripS = hooks.counters.roundTripS;
  const tickEnd = roundTripS === undefined || loopClock === undefined ? undefined : { endS: 0 };
  // And a tick's changes reach the router's shaper half their round trip after they are written
  // (docs/simulator.md): owed until the tick ends. The start-up's land at once.
  const owed: { dl?: number; ul?: number; from?: true } = {};
  const dl = new SimShaper("sim-dl", (kbit) => owed.from ? owed.dl = kbit : hooks.setDlRate(kbit));
  const ul = new SimShaper("sim-ul", (kbit) => owed.from ? owed.ul = kbit : hooks.setUlRate(kbit));
  let control: SimControl;
  try {
    control = await buildControl({
      hooks,
      owd: m.owd,
      reselect: m.reselect,
      shapers: { dl, ul },
      counters: new SimCounterReader(hooks, loopClock),
      loopClock,
      stats: options.stats,
      pluginSections: options.pluginSections,
      luaSeed: options.luaSeed ?? 0,
      wrapController: options.wrapController,
      // Idle mode (setting `idle_mode`) pauses and resumes the measurement, as in the daemon.
      pinging: {
        pause: () => m.measurement.pause?.() ?? Promise.resolve(),
        resume: () => m.measurement.resume?.() ?? Promise.resolve(),
      },
    });
  } catch (e) {
    await m.measurement.stop();
    throw e;
  }
  if (tickEnd !== undefined) owed.from = true;
  return {
    name: control.name,
    // A stopped pinger probes nothing, whatever the selector handed it meanwhile.
    peers: () => (m.pinger.running ? m.pinger.reflectors : []),
    probePlan: () => m.pinger.plan,
    onReply: m.ingest,
    advance: m.advance,
    tickIntervalS: control.intervalS,
    nextTickS: () => control.nextIntervalS(),
    tick: tickEnd === undefined ? () => control.tick() : async () => {
      const before = dl.changes + ul.changes;
      await control.tick();
      tickEnd.endS = loopClock!.monotonicS();
      // The tick's changes go together, one round trip (docs/remote.md, "A slow management link").
      if (dl.changes + ul.changes > before) {
        const tripS = roundTripS!();
        const landS = tickEnd.endS + tripS / 2;
        if (owed.dl !== undefined) hooks.setDlRate(owed.dl, landS);
        if (owed.ul !== undefined) hooks.setUlRate(owed.ul, landS);
        tickEnd.endS += tripS;
      }
      owed.dl = owed.ul = undefined;
    },
    tickEndS: () => tickEnd?.endS,
    reselects: () => m.reselect.count,
    pingerSwitches: () => m.pinger.switches,
    close: async () => {
      await m.measurement.stop();
      await control.close();
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
  /** The loop's clock when counter reads take time (`SimReadClock`); default the engine's. */
  loopClock?: Clock;
  stats?: StatsSink;
  pluginSections?: PluginSections;
  luaSeed: number;
  wrapController?: (controller: Ratecontroller) => Ratecontroller;
  pinging: PingControl;
}

/** The control loop as the engine drives it. */
interface SimControl {
  name: string;
  intervalS: number;
  /** The wait after the last tick, s (longer in idle mode). */
  nextIntervalS(): number;
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
  // The Lua engine is loaded only when a Lua controller or plugin is configured.
  const lua = usesLua(hooks.settings) ? await loadLua() : undefined;
  const controller = await createRatecontroller({
    settings: hooks.settings,
    clock: hooks.clock,
    random: hooks.random,
    logger,
    owd: parts.owd,
    reselect: parts.reselect,
    shaperQueues: hooks.shaperQueues,
  }, {
    luaFactory: lua &&
      ((context) => lua.createLuaRatecontroller(context, { pluginSections: parts.pluginSections })),
  });
  let plugins: RateAdjuster | undefined;
  try {
    plugins = await lua?.createPluginManager({
      settings: hooks.settings,
      logger: stageLogger("lua"),
      clock: hooks.clock,
      random: hooks.random,
      pluginSections: parts.pluginSections,
      mathSeed: parts.luaSeed,
    });
  } catch (e) {
    controller.close?.();
    throw e;
  }
  const loop = new ControlLoop({
    settings: hooks.settings,
    clock: parts.loopClock ?? hooks.clock,
    random: hooks.random,
    owd: parts.owd,
    reselect: parts.reselect,
    controller: parts.wrapController?.(controller) ?? controller,
    adjusters: plugins === undefined ? [] : [plugins],
    counters: parts.counters,
    shaper: parts.shapers,
    stats: parts.stats,
    pinging: parts.pinging,
  });
  await loop.start();
  const pluginNames = pluginRefs(hooks.settings).map((r) => r.replace(/^.*[\\/]|\.lua$/g, ""));
  return {
    intervalS: loop.intervalS,
    nextIntervalS: () => loop.nextIntervalS,
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
