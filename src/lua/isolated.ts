/**
 * Lua on its own thread: one worker per daemon (src/lua/worker_entry.ts) hosts the Lua
 * ratecontroller and the plugins, each in its own Lua state, and the daemon's thread waits for
 * each call with a wall-clock watchdog. The engine's own instruction hook stops Lua code at
 * `lua_time_limit_ms`, but not a C function (a pattern match can run for seconds); such a call is
 * stopped by terminating the worker at 1.5 × the limit + 250 ms, and a fresh worker is started with every
 * script again (their state starts over). A plugin that gets stuck twice, or was disabled for
 * failing, is left out of the fresh worker. The daemon's thread is never blocked by Lua, so
 * signals are handled at once (docs/plugins.md, "Time limit").
 *
 * This module does not load the Lua engine: the worker does. Its code is the source module when
 * this process may read it (a checkout with read permission), else the embedded worker bundle
 * (src/lua/worker_bundle.ts) started from a `blob:` URL, which needs no permission at all.
 */
import type { Logger } from "../log/logger.ts";
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
import type { PluginSections } from "./config.ts";
import { pluginRefs } from "./plugin_refs.ts";
import { LuaError, LuaRatecontrollerError } from "./errors.ts";
import { FailureLog } from "./failure_log.ts";
import { logText } from "./log_text.ts";
import { decodeGzipBase64 } from "./gzip_base64.ts";
import { type EnginePayload, enginePayload } from "./engine_payload.ts";
import type { LuaRatecontroller } from "./lua_ratecontroller.ts";
import type { PluginManager } from "./plugin_manager.ts";
import {
  answerRpc,
  emptyPartState,
  type HostMessage,
  type PartState,
  type PluginHealth,
  RPC_BUFFER_BYTES,
  type WorkerMessage,
  type WorkerPart,
} from "./worker_protocol.ts";

/** A call is stopped this many times `lua_time_limit_ms` after it started … */
export const STOP_FACTOR = 1.5;
/**
 * … plus this allowance (ms) for the round trip to the worker, which a busy router can deschedule
 * for a while: a slow call is the instruction hook's to stop; this stop is for a stuck one.
 */
export const STOP_GRACE_MS = 250;
/** Times a plugin may get stuck before the fresh worker leaves it out. */
export const MAX_STUCK = 2;
/** Name of the error when no worker can be started at all (the caller falls back). */
const WORKER_UNAVAILABLE = "LuaWorkerUnavailable";

/** How often the controller's speed history is fetched with a tick, seconds. */
const HISTORY_REFRESH_S = 60;

/** Where the worker's code comes from (see the module comment). */
export type WorkerSource = "module" | "embedded";

let embeddedUrl: string | undefined;

/** The worker's module URL: the source module when readable, else the embedded bundle. */
async function workerUrl(source?: WorkerSource): Promise<{ url: string; source: WorkerSource }> {
  const here = import.meta.url;
  const module = new URL("./worker_main.ts", here);
  if (source !== "embedded" && here.endsWith("/src/lua/isolated.ts")) {
    const readable = module.protocol === "file:" &&
      (await Deno.permissions.query({ name: "read", path: module })).state === "granted";
    if (readable || source === "module") return { url: module.href, source: "module" };
  }
  if (embeddedUrl === undefined) {
    const { LUA_WORKER_GZIP_BASE64 } = await import("./worker_bundle.ts");
    const script = await decodeGzipBase64(LUA_WORKER_GZIP_BASE64);
    embeddedUrl = URL.createObjectURL(
      new Blob([script as Uint8Array<ArrayBuffer>], { type: "text/javascript" }),
    );
  }
  return { url: embeddedUrl, source: "embedded" };
}

/** One Lua part the worker hosts, as the host knows it. */
interface PartSpec {
  part: WorkerPart;
  /** The settings the part is (re)loaded with (evaluated at each load). */
  settings: () => Settings;
  logger: Logger;
  random: RandomSource;
  pluginSections?: PluginSections;
  readTextFile?: (path: string) => Promise<string>;
  mathSeed?: number;
  /** Called after every successful (re)load, with what loaded. */
  onLoad?: (loaded: Loaded) => void;
}

/** What a loaded part reports. */
interface Loaded {
  /** Display name (the controller's) or `lua-plugins`. */
  name: string;
  /** The controller's script as it was found (controller only). */
  script?: string;
  /** Active plugins (plugins only). */
  active: string[];
}

interface Waiting<T> {
  resolve: (v: T) => void;
  reject: (e: Error) => void;
}

/** Options of {@link LuaWorker}. */
export interface LuaWorkerOptions {
  /** Effective settings (`lua_time_limit_ms`). */
  settings: Settings;
  /** Injected clock (the scripts' time). */
  clock: Clock;
  /** Stops the worker and fails pending calls at once (the daemon's shutdown signal). */
  signal?: AbortSignal;
  /** Where the worker's code comes from (default: the module when readable, else embedded). */
  source?: WorkerSource;
}

/**
 * The daemon's one Lua worker and its protocol. Parts are added once; calls are made one at a
 * time; a call past its stop time terminates the worker, and the next call (or
 * {@link restart}) starts a fresh one that loads every part again.
 */
export class LuaWorker {
  readonly #options: LuaWorkerOptions;
  readonly #rpc = new SharedArrayBuffer(RPC_BUFFER_BYTES);
  /** The engine's payloads, handed to each fresh worker with its first load (it has no copy). */
  #payload: EnginePayload | undefined;
  readonly #running = new Int32Array(new SharedArrayBuffer(4));
  readonly #parts = new Map<WorkerPart, PartSpec>();
  #worker: Worker | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #nextId = 1;
  #closed = false;
  /** The running worker has loaded a part (so it can start). */
  #started = false;
  #loading: (Waiting<Loaded> & { spec: PartSpec }) | undefined;
  #pending: (Waiting<{ value: unknown; state?: PartState }> & { id: number }) | undefined;
  /** Workers started so far (a fresh worker's parts count their failures from zero). */
  generation = 0;
  /** Where the running worker's code came from. */
  source: WorkerSource | undefined;

  /** A worker is started with the first part. */
  constructor(options: LuaWorkerOptions) {
    this.#options = options;
    options.signal?.addEventListener("abort", () => this.close(), { once: true });
  }

  /** Plugin id of the call in progress (plugins only; 0: none yet). */
  get running(): number {
    return Atomics.load(this.#running, 0);
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Loads a part (starting the worker first when none runs). Rejects with the part's load
   * error, or with a {@link WORKER_UNAVAILABLE} error when no worker can be started at all.
   */
  add(spec: PartSpec): Promise<Loaded> {
    return this.#serial(async () => {
      if (this.#worker === undefined) await this.#spawn();
      const loaded = await this.#load(spec);
      this.#parts.set(spec.part, spec);
      return loaded;
    });
  }

  /** Drops a part; the worker stops with the last one. */
  remove(part: WorkerPart): void {
    this.#parts.delete(part);
    if (this.#parts.size === 0) this.#terminate();
    else this.#post({ op: "unload", part });
  }

  /** Calls `method` of `part`; a call past the stop time terminates the worker and throws. */
  call(part: WorkerPart, method: string, arg: unknown): Promise<{
    value: unknown;
    state?: PartState;
  }> {
    return this.#serial(async () => {
      if (this.#worker === undefined) await this.#restartNow();
      const id = this.#nextId++;
      const limitMs = this.#options.settings.lua_time_limit_ms;
      const stopMs = STOP_FACTOR * limitMs + STOP_GRACE_MS;
      Atomics.store(this.#running, 0, 0);
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        return await new Promise((resolve, reject) => {
          this.#pending = { id, resolve, reject };
          timer = setTimeout(() => {
            this.#terminate();
            reject(
              new LuaError(
                "timeout",
                `stopped after ${Math.round(stopMs)} ms (lua_time_limit_ms ${limitMs}, ` +
                  "stuck in a C function such as a pattern match); the Lua engine was restarted",
              ),
            );
          }, stopMs);
          this.#post({
            op: "call",
            id,
            part,
            method,
            arg,
            monoS: this.#options.clock.monotonicS(),
            wallMs: this.#options.clock.wallMs(),
          });
        });
      } finally {
        clearTimeout(timer);
        this.#pending = undefined;
      }
    });
  }

  /**
   * Starts a fresh worker with every part soon (a new worker blocks this thread for a moment,
   * so the caller's tick finishes first); calls made meanwhile wait for it.
   */
  restart(): void {
    if (this.#closed) return;
    void this.#serial(async () => {
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (this.#worker === undefined) await this.#restartNow();
    }).catch(() => {});
  }

  /** Runs `task` after everything queued before it. */
  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(() => {
      if (this.#closed) throw new LuaError("error", "Lua engine is closed");
      return task();
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  /** A fresh worker with every part; a part that fails to load is logged and left out. */
  async #restartNow(): Promise<void> {
    this.#terminate();
    await this.#spawn();
    for (const spec of [...this.#parts.values()]) {
      try {
        await this.#load(spec);
      } catch (e) {
        if (this.#closed) return;
        logText(spec.logger, "error", `Lua engine restart failed: ${(e as Error).message}`);
      }
    }
  }

  async #spawn(): Promise<void> {
    const { url, source } = await workerUrl(this.#options.source);
    const payload = await enginePayload();
    const w = new Worker(url, { type: "module" });
    this.#worker = w;
    this.#payload = payload;
    this.source = source;
    this.generation++;
    this.#started = false;
    w.onmessage = (ev: MessageEvent<WorkerMessage>) => this.#onMessage(ev.data);
    w.onerror = (ev) => {
      ev.preventDefault();
      // Before any part loaded: the worker could not even start.
      const e = new Error(`Lua worker crashed: ${ev.message}`);
      if (!this.#started) e.name = WORKER_UNAVAILABLE;
      this.#loading?.reject(e);
      this.#pending?.reject(new LuaError("error", e.message));
      this.#terminate();
    };
  }

  #load(spec: PartSpec): Promise<Loaded> {
    const settings = spec.settings();
    const limitMs = 20 * settings.lua_time_limit_ms + 10_000;
    return new Promise<Loaded>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#terminate();
        reject(new LuaError("timeout", `Lua scripts did not start within ${limitMs} ms`));
      }, limitMs);
      this.#loading = {
        spec,
        resolve: (loaded) => {
          clearTimeout(timer);
          this.#loading = undefined;
          spec.onLoad?.(loaded);
          resolve(loaded);
        },
        reject: (e) => {
          clearTimeout(timer);
          this.#loading = undefined;
          reject(e);
        },
      };
      this.#post({
        op: "load",
        part: spec.part,
        settings,
        mathSeed: spec.mathSeed,
        rpc: this.#rpc,
        running: this.#running.buffer as SharedArrayBuffer,
        monoS: this.#options.clock.monotonicS(),
        wallMs: this.#options.clock.wallMs(),
        payload: this.#payload,
      });
      this.#payload = undefined;
      // A worker that cannot start reports through onerror (which may already have run).
      if (this.#worker === undefined) this.#loading.reject(new LuaError("error", "no Lua worker"));
    });
  }

  #post(m: HostMessage): void {
    this.#worker?.postMessage(m);
  }

  #spec(part: WorkerPart): PartSpec | undefined {
    const loading = this.#loading?.spec;
    return loading?.part === part ? loading : this.#parts.get(part);
  }

  #onMessage(m: WorkerMessage): void {
    switch (m.op) {
      case "log": {
        const spec = this.#spec(m.part);
        if (spec !== undefined) logText(spec.logger, m.level as "info", m.text);
        return;
      }
      case "rpc":
        void this.#answer(m.part, m.kind, m.arg);
        return;
      case "loaded":
        this.#started = true;
        this.#loading?.resolve({ name: m.name, script: m.script, active: m.active ?? [] });
        return;
      case "load-error": {
        const e = m.errorName === "LuaRatecontrollerError"
          ? new LuaRatecontrollerError(m.message)
          : new Error(m.message);
        e.name = m.errorName;
        this.#loading?.reject(e);
        return;
      }
      case "result":
        if (this.#pending?.id === m.id) this.#pending.resolve({ value: m.value, state: m.state });
        return;
      case "error":
        if (this.#pending?.id === m.id) this.#pending.reject(new LuaError("error", m.message));
    }
  }

  async #answer(part: WorkerPart, kind: "random" | "section" | "read", arg: string) {
    const spec = this.#spec(part);
    try {
      let value: unknown;
      if (kind === "random") value = Array.from({ length: Number(arg) }, spec!.random);
      else if (kind === "section") value = spec?.pluginSections?.(arg);
      else value = await (spec?.readTextFile ?? Deno.readTextFile)(arg);
      answerRpc(this.#rpc, { value });
    } catch (e) {
      answerRpc(this.#rpc, { error: (e as Error).message });
    }
  }

  #terminate(): void {
    this.#worker?.terminate();
    this.#worker = undefined;
  }

  /** Stops the worker; pending calls fail at once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#terminate();
    this.#pending?.reject(new LuaError("error", "Lua engine closed"));
    this.#loading?.reject(new LuaError("error", "Lua engine closed"));
  }
}

/** A controller's safe-rate rings. */
type SpeedHistory = { up: readonly number[]; down: readonly number[] };

/** The Lua ratecontroller, run in the worker. */
export class IsolatedRatecontroller implements Ratecontroller {
  readonly #worker: LuaWorker;
  readonly #context: RatecontrollerContext;
  readonly #failures: FailureLog;
  readonly #owned: boolean;
  #history: SpeedHistory = { up: [], down: [] };
  #historyAt = -Infinity;
  /** The script's display name. */
  name = "";
  /** The script as it was found: its path, or `builtin:<name>`. */
  script: string | undefined;

  /** Use {@link createIsolatedRatecontroller}. */
  constructor(worker: LuaWorker, context: RatecontrollerContext, owned: boolean) {
    this.#worker = worker;
    this.#context = context;
    this.#owned = owned;
    this.#failures = new FailureLog({
      logger: context.logger,
      nowS: () => context.clock.monotonicS(),
    });
  }

  /** What the worker loads for this controller. */
  spec(): PartSpec {
    const c = this.#context;
    return {
      part: "controller",
      settings: () => c.settings,
      logger: c.logger,
      random: c.random,
      onLoad: (loaded) => {
        this.name = loaded.name;
        this.script = loaded.script;
      },
    };
  }

  /** `calculate(data)` in the worker; a stuck call gives the minimum rates and a fresh engine. */
  async decide(input: TickInput): Promise<RateDecision> {
    const s = this.#context.settings;
    try {
      const d = (await this.#worker.call("controller", "decide", input)).value as RateDecision;
      const now = this.#context.clock.monotonicS();
      if (now - this.#historyAt >= HISTORY_REFRESH_S) await this.#refreshHistory(now);
      return d;
    } catch (e) {
      const minimum = { next_dl_rate: s.min_dl_rate, next_ul_rate: s.min_ul_rate };
      if (this.#worker.closed) return minimum;
      this.#failures.failure(
        `${this.name}: calculate() failed (${(e as LuaError).kind ?? "error"}); minimum rates`,
        (e as Error).message,
      );
      // The next call waits for the fresh worker.
      this.#worker.restart();
      return minimum;
    }
  }

  async #refreshHistory(now: number): Promise<void> {
    this.#historyAt = now;
    this.#history = (await this.#worker.call("controller", "history", null)).value as SpeedHistory;
  }

  /** The script's safe-rate history as of the last refresh (at most a minute old). */
  speedHistory(): { up: readonly number[]; down: readonly number[] } {
    return this.#history;
  }

  /** Drops the controller (and stops the worker when it is its own). */
  close(): void {
    if (this.#owned) this.#worker.close();
    else if (!this.#worker.closed) this.#worker.remove("controller");
  }

  /** Fetches the history now (start-up). */
  async init(): Promise<void> {
    await this.#refreshHistory(this.#context.clock.monotonicS());
  }
}

/** Options of {@link createIsolatedRatecontroller}. */
export interface IsolatedOptions {
  /** The daemon's shared worker; without one, a worker of its own is started. */
  worker?: LuaWorker;
  /** UCI sections for `settings.plugin(name)`. */
  pluginSections?: PluginSections;
  /** Reads script files (default `Deno.readTextFile`, on the host). */
  readTextFile?: (path: string) => Promise<string>;
  /** Stops an own worker and fails pending calls at once (the daemon's shutdown signal). */
  signal?: AbortSignal;
}

/** Starts a Lua ratecontroller in a worker; throws {@link LuaRatecontrollerError} as in process. */
export async function createIsolatedRatecontroller(
  context: RatecontrollerContext,
  options: IsolatedOptions = {},
): Promise<IsolatedRatecontroller | LuaRatecontroller> {
  const worker = options.worker ??
    new LuaWorker({ settings: context.settings, clock: context.clock, signal: options.signal });
  const c = new IsolatedRatecontroller(worker, context, options.worker === undefined);
  try {
    await worker.add({
      ...c.spec(),
      pluginSections: options.pluginSections,
      readTextFile: options.readTextFile,
    });
  } catch (e) {
    c.close();
    if ((e as Error).name === WORKER_UNAVAILABLE) {
      warnInProcess(context.logger, e as Error);
      const { createLuaRatecontroller } = await import("./lua_ratecontroller.ts");
      return await createLuaRatecontroller(context, options);
    }
    throw e instanceof LuaRatecontrollerError ? e : new LuaRatecontrollerError(String(e));
  }
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

/** The plugins, run in the worker. */
export class IsolatedPlugins implements RateAdjuster {
  /** Display name. */
  readonly name = "lua-plugins";
  readonly #worker: LuaWorker;
  readonly #logger: Logger;
  readonly #owned: boolean;
  /** Every configured plugin reference, in order. */
  readonly #all: readonly string[];
  /** References left out of fresh workers: stuck twice or disabled for failing. */
  readonly #leftOut = new Set<string>();
  readonly #stuck = new Map<string, number>();
  /** References the current worker runs, in order (ids are positions + 1). */
  #refs: string[];
  /** References of the load in progress. */
  #loadingRefs: string[];
  /** Failures and disabled plugins of earlier workers. */
  #errorsBefore = 0;
  readonly #disabledBefore: string[] = [];
  #state: PartState = emptyPartState();
  #generation = 0;

  /** Use {@link createIsolatedPlugins}. */
  constructor(worker: LuaWorker, refs: string[], options: { logger: Logger; owned: boolean }) {
    this.#worker = worker;
    this.#all = refs;
    this.#refs = this.#loadingRefs = refs;
    this.#logger = options.logger;
    this.#owned = options.owned;
  }

  /** What the worker loads for the plugins (without the ones left out). */
  spec(options: IsolatedPluginsOptions): PartSpec {
    return {
      part: "plugins",
      settings: () => {
        this.#loadingRefs = this.#all.filter((r) => !this.#leftOut.has(r));
        return { ...options.settings, plugin_ratecontrol: "", plugin_scripts: this.#loadingRefs };
      },
      logger: options.logger,
      random: options.random ?? Math.random,
      mathSeed: options.mathSeed ?? Math.floor(Math.random() * 2 ** 31),
      pluginSections: options.pluginSections,
      readTextFile: options.readTextFile,
      onLoad: (loaded) => this.#onLoad(loaded),
    };
  }

  /** A (fresh) worker loaded the plugins: earlier counts are kept, ids start over. */
  #onLoad(loaded: Loaded): void {
    this.#errorsBefore += this.#state.health.errors;
    this.#disabledBefore.push(...this.#state.health.disabled);
    this.#refs = this.#loadingRefs;
    this.#state = { ...emptyPartState(), active: loaded.active };
    this.#generation = this.#worker.generation;
  }

  /** Failed `process()` calls so far (stuck ones included), and the disabled plugins (metrics). */
  get health(): PluginHealth {
    const h = this.#state.health;
    return {
      errors: this.#errorsBefore + h.errors,
      disabled: [...this.#disabledBefore, ...h.disabled],
    };
  }

  /** Names of the active plugins after the last call. */
  get active(): string[] {
    return this.#state.active;
  }

  /** Runs the plugins in the worker; a stuck plugin's tick changes nothing. */
  async adjust(input: AdjusterInput): Promise<Adjustment> {
    if (this.#state.active.length === 0) return {};
    try {
      const r = await this.#worker.call("plugins", "adjust", input);
      if (r.state !== undefined && this.#generation === this.#worker.generation) {
        this.#state = r.state;
        // A fresh worker leaves out plugins disabled for failing.
        for (const id of r.state.disabledIds) this.#leftOut.add(this.#refs[id - 1]);
      }
      return r.value as Adjustment;
    } catch (e) {
      if (this.#worker.closed) return {}; // shutting down
      const id = this.#worker.running;
      this.#errorsBefore++;
      const ref = id === 0 ? undefined : this.#refs[id - 1];
      logText(this.#logger, "error", `plugin ${ref ?? "?"}: process() ${(e as Error).message}`);
      if (ref !== undefined) {
        const n = (this.#stuck.get(ref) ?? 0) + 1;
        this.#stuck.set(ref, n);
        if (n >= MAX_STUCK) {
          this.#leftOut.add(ref);
          logText(this.#logger, "error", `plugin ${ref} disabled: stuck ${n} times`);
          this.#disabledBefore.push(ref);
        }
      }
      // This tick goes on without the plugins' results; the next call waits for the fresh worker.
      this.#worker.restart();
      return {};
    }
  }

  /** Drops the plugins (and stops the worker when it is their own). */
  close(): void {
    if (this.#owned) this.#worker.close();
    else if (!this.#worker.closed) this.#worker.remove("plugins");
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
  const worker = options.worker ??
    new LuaWorker({ settings: options.settings, clock: options.clock, signal: options.signal });
  const p = new IsolatedPlugins(worker, refs, {
    logger: options.logger,
    owned: options.worker === undefined,
  });
  let loaded: Loaded;
  try {
    loaded = await worker.add(p.spec(options));
  } catch (e) {
    p.close();
    if ((e as Error).name !== WORKER_UNAVAILABLE) throw e;
    warnInProcess(options.logger, e as Error);
    const { createPluginManager } = await import("./plugin_manager.ts");
    return await createPluginManager(options);
  }
  if (loaded.active.length === 0) {
    p.close();
    return undefined;
  }
  return p;
}

/**
 * The daemon's Lua: one worker for the Lua ratecontroller and the plugins, or, with
 * `lua_isolation` `none`, both on the daemon's thread (instruction limit only). `plugins` is
 * undefined when none is configured or loads; `ratecontroller` builds the Lua ratecontroller
 * (pass it as `luaFactory`).
 */
export async function startDaemonLua(options: IsolatedPluginsOptions): Promise<{
  plugins: IsolatedPlugins | PluginManager | undefined;
  ratecontroller: (context: RatecontrollerContext) => Promise<Ratecontroller>;
}> {
  if (options.settings.lua_isolation === "none") {
    const { createPluginManager } = await import("./plugin_manager.ts");
    const { createLuaRatecontroller } = await import("./lua_ratecontroller.ts");
    return {
      plugins: await createPluginManager(options),
      ratecontroller: (context) => createLuaRatecontroller(context, options),
    };
  }
  const worker = new LuaWorker({
    settings: options.settings,
    clock: options.clock,
    signal: options.signal,
  });
  const plugins = await createIsolatedPlugins({ ...options, worker });
  return {
    plugins,
    ratecontroller: (context) =>
      createIsolatedRatecontroller(context, {
        // Where the plugins had to run on the daemon's thread, the controller will too.
        worker: plugins === undefined || plugins instanceof IsolatedPlugins ? worker : undefined,
        pluginSections: options.pluginSections,
        readTextFile: options.readTextFile,
        signal: options.signal,
      }),
  };
}
