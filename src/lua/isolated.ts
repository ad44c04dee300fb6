/**
 * Lua on its own thread: the Lua ratecontroller and the plugin manager run in a Worker
 * (src/lua/worker_entry.ts) and the daemon's thread waits for each call with a wall-clock
 * watchdog. The engine's own instruction hook stops Lua code at `lua_time_limit_ms`, but not a
 * C function (a pattern match can run for seconds); such a call is stopped by terminating the
 * worker at 1.5 × the limit, and a fresh worker is started with the same scripts (their state
 * starts over). A plugin that gets stuck twice is left out of the fresh worker. The daemon's
 * thread is never blocked by Lua, so signals are handled at once (docs/plugins.md, "Time limit").
 */
import type { Logger } from "@logtape/logtape";
import type { Settings } from "../config/types.ts";
import type { Clock, RandomSource } from "../util/clock.ts";
import type {
  AdjusterInput,
  Adjustment,
  RateAdjuster,
  Ratecontroller,
  RatecontrollerContext,
  RateDecision,
  TickInput,
} from "../control/ratecontroller_port.ts";
import { pluginRefs, type PluginSections } from "./config.ts";
import { LuaError } from "./engine.ts";
import { LuaRatecontrollerError } from "./errors.ts";
import { FailureLog } from "./failure_log.ts";
import { logText } from "./runtime.ts";
import { createLuaRatecontroller, type LuaRatecontroller } from "./lua_ratecontroller.ts";
import { createPluginManager, type PluginManager } from "./plugin_manager.ts";
import {
  answerRpc,
  type HostMessage,
  LUA_WORKER_NAME,
  type PluginHealth,
  RPC_BUFFER_BYTES,
  type WorkerKind,
  type WorkerMessage,
} from "./worker_protocol.ts";

/** A call is stopped this many times `lua_time_limit_ms` after it started. */
export const STOP_FACTOR = 1.5;
/** Times a plugin may get stuck before the fresh worker leaves it out. */
export const MAX_STUCK = 2;
/** Name of the error when no worker can be started at all (the caller falls back). */
const WORKER_UNAVAILABLE = "LuaWorkerUnavailable";

/** How often the controller's speed history is fetched with a tick, seconds. */
const HISTORY_REFRESH_S = 60;

/** Where the worker's code is: this module's sibling, or the bundle itself (main.ts serves it). */
function workerUrl(): string {
  const here = import.meta.url;
  return here.endsWith("/src/lua/isolated.ts") ? new URL("./worker_main.ts", here).href : here;
}

/** What a worker is started with. */
interface WorkerSpec {
  kind: WorkerKind;
  settings: Settings;
  clock: Clock;
  random: RandomSource;
  logger: Logger;
  pluginSections?: PluginSections;
  readTextFile?: (path: string) => Promise<string>;
  mathSeed?: number;
  /** Aborts every pending call and stops the worker (the daemon's shutdown). */
  signal?: AbortSignal;
}

interface Pending {
  resolve: (r: { value: unknown; active?: string[] }) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** One worker and its protocol; restarts it after a stuck call. */
class LuaWorkerHost {
  readonly #spec: WorkerSpec;
  readonly #rpc = new SharedArrayBuffer(RPC_BUFFER_BYTES);
  readonly #running = new Int32Array(new SharedArrayBuffer(4));
  readonly #pending = new Map<number, Pending>();
  #worker: Worker | undefined;
  #nextId = 1;
  #closed = false;
  #ready: Promise<void> | undefined;
  #onReady: ((m: WorkerMessage) => void) | undefined;
  /** Plugin id of the call in progress (plugins only; 0: none yet). */
  get running(): number {
    return Atomics.load(this.#running, 0);
  }
  /** Display name from the worker. */
  name = "";
  /** Active plugins after the last call. */
  active: string[] = [];
  /** The worker's plugin failure counts after the last call. */
  health: PluginHealth = { errors: 0, disabled: [] };

  constructor(spec: WorkerSpec) {
    this.#spec = spec;
    spec.signal?.addEventListener("abort", () => this.close(), { once: true });
  }

  get settings(): Settings {
    return this.#spec.settings;
  }

  /** Starts (or restarts) the worker with `settings`; rejects with the worker's start error. */
  start(settings: Settings = this.#spec.settings): Promise<void> {
    if (this.#closed) return Promise.reject(new LuaError("error", "Lua engine is closed"));
    this.#spec.settings = settings;
    const w = new Worker(workerUrl(), { type: "module", name: LUA_WORKER_NAME });
    this.#worker = w;
    w.onmessage = (ev: MessageEvent<WorkerMessage>) => this.#onMessage(ev.data);
    w.onerror = (ev) => {
      ev.preventDefault();
      // Before "ready": the worker could not even start (e.g. no read access to its module).
      this.#onReady?.({ op: "init-error", errorName: WORKER_UNAVAILABLE, message: ev.message });
      this.#fail(`Lua worker crashed: ${ev.message}`);
    };
    const limit = settings.lua_time_limit_ms;
    this.#ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#terminate();
        reject(
          new LuaError("timeout", `Lua scripts did not start within ${20 * limit + 10000} ms`),
        );
      }, 20 * limit + 10000);
      this.#onReady = (m) => {
        clearTimeout(timer);
        this.#onReady = undefined;
        if (m.op === "ready") {
          this.name = m.name;
          this.active = m.active ?? [];
          resolve();
        } else if (m.op === "init-error") {
          this.#terminate();
          const e = m.errorName === "LuaRatecontrollerError"
            ? new LuaRatecontrollerError(m.message)
            : new Error(m.message);
          e.name = m.errorName;
          reject(e);
        }
      };
    });
    this.#post({
      op: "init",
      kind: this.#spec.kind,
      settings,
      mathSeed: this.#spec.mathSeed,
      rpc: this.#rpc,
      running: this.#running.buffer as SharedArrayBuffer,
      monoS: this.#spec.clock.monotonicS(),
      wallMs: this.#spec.clock.wallMs(),
    });
    return this.#ready;
  }

  /**
   * Starts a fresh worker soon (a new worker blocks this thread for a moment, so the caller's
   * tick finishes first); calls made meanwhile wait for it. Start failures are logged.
   */
  restart(settings: Settings = this.#spec.settings): void {
    if (this.#closed) return;
    this.#ready = new Promise<void>((resolve) => setTimeout(resolve, 0))
      .then(() => this.start(settings))
      .catch((e) => {
        if (this.#closed) return;
        logText(this.#spec.logger, "error", `Lua engine restart failed: ${(e as Error).message}`);
      });
  }

  /** Calls `method` in the worker; a call past the stop time restarts the worker and throws. */
  async call(method: string, arg: unknown): Promise<{ value: unknown; active?: string[] }> {
    if (this.#closed) throw new LuaError("error", "Lua engine is closed");
    await this.#ready;
    const id = this.#nextId++;
    const stopMs = STOP_FACTOR * this.#spec.settings.lua_time_limit_ms;
    Atomics.store(this.#running, 0, 0);
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        this.#terminate();
        reject(
          new LuaError(
            "timeout",
            `stopped after ${
              Math.round(stopMs)
            } ms (lua_time_limit_ms ${this.#spec.settings.lua_time_limit_ms}, ` +
              "stuck in a C function such as a pattern match); the Lua engine was restarted",
          ),
        );
      }, stopMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.#post({
        op: "call",
        id,
        method,
        arg,
        monoS: this.#spec.clock.monotonicS(),
        wallMs: this.#spec.clock.wallMs(),
      });
    });
  }

  #post(m: HostMessage): void {
    this.#worker?.postMessage(m);
  }

  #onMessage(m: WorkerMessage): void {
    switch (m.op) {
      case "log":
        logText(this.#spec.logger, m.level as "info", m.text);
        return;
      case "rpc":
        void this.#answer(m.kind, m.arg);
        return;
      case "ready":
      case "init-error":
        this.#onReady?.(m);
        return;
      case "result":
      case "error": {
        const p = this.#pending.get(m.id);
        if (p === undefined) return;
        this.#pending.delete(m.id);
        clearTimeout(p.timer);
        if (m.op === "result") {
          if (m.active !== undefined) this.active = m.active;
          if (m.health !== undefined) this.health = m.health;
          p.resolve({ value: m.value, active: m.active });
        } else p.reject(new LuaError("error", m.message));
      }
    }
  }

  async #answer(kind: "random" | "section" | "read", arg: string): Promise<void> {
    try {
      let value: unknown;
      if (kind === "random") value = Array.from({ length: Number(arg) }, this.#spec.random);
      else if (kind === "section") value = this.#spec.pluginSections?.(arg);
      else value = await (this.#spec.readTextFile ?? Deno.readTextFile)(arg);
      answerRpc(this.#rpc, { value });
    } catch (e) {
      answerRpc(this.#rpc, { error: (e as Error).message });
    }
  }

  #fail(message: string): void {
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      this.#pending.delete(id);
      p.reject(new LuaError("error", message));
    }
    this.#terminate();
  }

  #terminate(): void {
    this.#worker?.terminate();
    this.#worker = undefined;
  }

  /** Stops the worker; pending calls fail at once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#fail("Lua engine closed");
    this.#onReady?.({ op: "init-error", errorName: "Error", message: "Lua engine closed" });
  }
}

/** A controller's safe-rate rings. */
type SpeedHistory = { up: readonly number[]; down: readonly number[] };

/** The Lua ratecontroller, run in a worker. */
export class IsolatedRatecontroller implements Ratecontroller {
  readonly #host: LuaWorkerHost;
  readonly #context: RatecontrollerContext;
  readonly #failures: FailureLog;
  #history: SpeedHistory = { up: [], down: [] };
  #historyAt = -Infinity;

  /** Use {@link createIsolatedRatecontroller}. */
  constructor(host: LuaWorkerHost, context: RatecontrollerContext) {
    this.#host = host;
    this.#context = context;
    this.#failures = new FailureLog({
      logger: context.logger,
      nowS: () => context.clock.monotonicS(),
    });
  }

  /** The script's display name. */
  get name(): string {
    return this.#host.name;
  }

  /** `calculate(data)` in the worker; a stuck call gives the minimum rates and a fresh engine. */
  async decide(input: TickInput): Promise<RateDecision> {
    const s = this.#context.settings;
    try {
      const d = (await this.#host.call("decide", input)).value as RateDecision;
      const now = this.#context.clock.monotonicS();
      if (now - this.#historyAt >= HISTORY_REFRESH_S) await this.#refreshHistory(now);
      return d;
    } catch (e) {
      this.#failures.failure(
        `${this.name}: calculate() failed (${(e as LuaError).kind ?? "error"}); minimum rates`,
        (e as Error).message,
      );
      // The next call waits for the fresh worker.
      this.#host.restart();
      return { next_dl_rate: s.min_dl_rate, next_ul_rate: s.min_ul_rate };
    }
  }

  async #refreshHistory(now: number): Promise<void> {
    this.#historyAt = now;
    this.#history = (await this.#host.call("history", null)).value as SpeedHistory;
  }

  /** The script's safe-rate history as of the last refresh (at most a minute old). */
  speedHistory(): { up: readonly number[]; down: readonly number[] } {
    return this.#history;
  }

  /** Stops the worker. */
  close(): void {
    this.#host.close();
  }

  /** Fetches the history now (start-up). */
  async init(): Promise<void> {
    await this.#refreshHistory(this.#context.clock.monotonicS());
  }
}

/** Options of {@link createIsolatedRatecontroller}. */
export interface IsolatedOptions {
  /** UCI sections for `settings.plugin(name)`. */
  pluginSections?: PluginSections;
  /** Reads script files (default `Deno.readTextFile`, on the host). */
  readTextFile?: (path: string) => Promise<string>;
  /** Stops the worker and fails pending calls at once (the daemon's shutdown signal). */
  signal?: AbortSignal;
}

/** Starts a Lua ratecontroller in a worker; throws {@link LuaRatecontrollerError} as in process. */
export async function createIsolatedRatecontroller(
  context: RatecontrollerContext,
  options: IsolatedOptions = {},
): Promise<IsolatedRatecontroller | LuaRatecontroller> {
  const host = new LuaWorkerHost({
    kind: "controller",
    settings: context.settings,
    clock: context.clock,
    random: context.random,
    logger: context.logger,
    ...options,
  });
  try {
    await host.start();
  } catch (e) {
    host.close();
    if ((e as Error).name === WORKER_UNAVAILABLE) {
      warnInProcess(context.logger, e as Error);
      return await createLuaRatecontroller(context, options);
    }
    throw e instanceof LuaRatecontrollerError ? e : new LuaRatecontrollerError(String(e));
  }
  const c = new IsolatedRatecontroller(host, context);
  await c.init();
  return c;
}

/** Without workers Lua still runs, on the daemon's thread (the instruction hook only). */
function warnInProcess(logger: Logger, e: Error): void {
  logText(
    logger,
    "warn",
    `Lua runs on the daemon's thread: no worker could be started (${e.message}); ` +
      "a call stuck in a C function cannot be stopped early",
  );
}

/** The plugins, run in a worker. */
export class IsolatedPlugins implements RateAdjuster {
  /** Display name. */
  readonly name = "lua-plugins";
  readonly #host: LuaWorkerHost;
  readonly #logger: Logger;
  /** Plugin references the current worker runs, in order (ids are positions + 1). */
  #refs: string[];
  readonly #stuck = new Map<string, number>();
  #stuckErrors = 0;
  #errorsBefore = 0;
  readonly #stuckDisabled: string[] = [];

  /** Use {@link createIsolatedPlugins}. */
  constructor(host: LuaWorkerHost, refs: string[], logger: Logger) {
    this.#host = host;
    this.#refs = refs;
    this.#logger = logger;
  }

  /** Failed `process()` calls so far (stuck ones included), and the disabled plugins (metrics). */
  get health(): PluginHealth {
    const h = this.#host.health;
    return {
      errors: this.#errorsBefore + h.errors + this.#stuckErrors,
      disabled: [...this.#stuckDisabled, ...h.disabled],
    };
  }

  /** Names of the active plugins after the last call. */
  get active(): string[] {
    return this.#host.active;
  }

  /** Runs the plugins in the worker; a stuck plugin's tick changes nothing. */
  async adjust(input: AdjusterInput): Promise<Adjustment> {
    try {
      return (await this.#host.call("adjust", input)).value as Adjustment;
    } catch (e) {
      const id = this.#host.running;
      this.#stuckErrors++;
      // The fresh worker counts from zero.
      this.#errorsBefore += this.#host.health.errors;
      this.#host.health = { errors: 0, disabled: [] };
      const ref = id === 0 ? undefined : this.#refs[id - 1];
      logText(this.#logger, "error", `plugin ${ref ?? "?"}: process() ${(e as Error).message}`);
      if (ref !== undefined) {
        const n = (this.#stuck.get(ref) ?? 0) + 1;
        this.#stuck.set(ref, n);
        if (n >= MAX_STUCK) {
          this.#refs = this.#refs.filter((_, i) => i !== id! - 1);
          logText(this.#logger, "error", `plugin ${ref} disabled: stuck ${n} times`);
          this.#stuckDisabled.push(ref);
        }
      }
      // This tick goes on without the plugins' results; the next call waits for the fresh worker.
      this.#host.restart({
        ...this.#host.settings,
        plugin_ratecontrol: "",
        plugin_scripts: this.#refs,
      });
      return {};
    }
  }

  /** Stops the worker. */
  close(): void {
    this.#host.close();
  }
}

/** Options of {@link createIsolatedPlugins}. */
export interface IsolatedPluginsOptions extends IsolatedOptions {
  /** Effective settings. */
  settings: Settings;
  /** Logger for plugin messages. */
  logger: Logger;
  /** Injected clock. */
  clock: Clock;
  /** Injected random source (`sqma.random`). Default: Math.random. */
  random?: RandomSource;
  /** Seed of Lua's own `math.random` (see `PluginManagerOptions.mathSeed`). */
  mathSeed?: number;
}

/** Starts the configured plugins in a worker; undefined when none is configured or loads. */
export async function createIsolatedPlugins(
  options: IsolatedPluginsOptions,
): Promise<IsolatedPlugins | PluginManager | undefined> {
  const refs = pluginRefs(options.settings);
  if (refs.length === 0) return undefined;
  const host = new LuaWorkerHost({
    kind: "plugins",
    random: Math.random,
    ...options,
    mathSeed: options.mathSeed ?? Math.floor(Math.random() * 2 ** 31),
  });
  try {
    await host.start();
  } catch (e) {
    host.close();
    if ((e as Error).name !== WORKER_UNAVAILABLE) throw e;
    warnInProcess(options.logger, e as Error);
    return await createPluginManager(options);
  }
  if (host.active.length === 0) {
    host.close();
    return undefined;
  }
  return new IsolatedPlugins(host, refs, options.logger);
}
