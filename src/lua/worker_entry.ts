/**
 * The Lua worker: hosts the Lua ratecontroller and the plugin manager (the same code as in
 * process, each in its own Lua state) on a thread of its own, so the daemon's thread can stop a
 * call that runs too long by terminating the worker (src/lua/isolated.ts). Log lines, random
 * numbers, UCI sections and script files cross to the host through messages
 * (src/lua/worker_protocol.ts).
 */
import type { Logger } from "../log/logger.ts";
import type { Clock } from "../util/clock.ts";
import { createOwdState } from "../baseline/owd_state.ts";
import { provideEnginePayload } from "./engine_payload.ts";
import { lineLogger } from "./log_text.ts";
import type { AdjusterInput, TickInput } from "../control/ratecontroller_port.ts";
import type { UciSectionOptions } from "./config.ts";
import { createLuaRatecontroller, type LuaRatecontroller } from "./lua_ratecontroller.ts";
import { createPluginManager, type PluginManager } from "./plugin_manager.ts";
import {
  askHost,
  emptyPartState,
  type HostMessage,
  type PartState,
  RANDOM_BATCH,
  type WorkerMessage,
  type WorkerPart,
} from "./worker_protocol.ts";

// deno-lint-ignore no-explicit-any
const scope = globalThis as any;
const post = (m: WorkerMessage) => scope.postMessage(m);

const RANK: Record<string, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4, fatal: 5 };

/** Posts `part`'s log lines at or above `lowest` (an upstream level name); a message per line costs. */
function postingLogger(part: WorkerPart, lowest: string): Logger {
  const min = RANK[lowest.toLowerCase()] ?? RANK.info;
  return lineLogger((level, text) => {
    if (RANK[level] >= min) post({ op: "log", part, level, text });
  });
}

let now = { monoS: 0, wallMs: 0 };
const clock: Clock = { monotonicS: () => now.monoS, wallMs: () => now.wallMs };
let controller: LuaRatecontroller | undefined;
let plugins: PluginManager | undefined;

async function load(m: Extract<HostMessage, { op: "load" }>): Promise<void> {
  if (m.payload !== undefined) provideEnginePayload(m.payload);
  now = { monoS: m.monoS, wallMs: m.wallMs };
  const { part } = m;
  const ask = (kind: "random" | "section" | "read", arg: string) =>
    askHost(m.rpc, post, { part, kind, arg });
  const logger = postingLogger(part, m.settings.log_level);
  const running = new Int32Array(m.running);
  // Random numbers come in batches: a round trip per draw would cost more than a tick.
  let draws: number[] = [];
  const random = () => {
    if (draws.length === 0) draws = (ask("random", String(RANDOM_BATCH)) as number[]).reverse();
    return draws.pop()!;
  };
  const pluginSections = (name: string) => ask("section", name) as UciSectionOptions | undefined;
  const readTextFile = (path: string) => Promise.resolve(ask("read", path) as string);
  unload(part);
  try {
    if (part === "controller") {
      controller = await createLuaRatecontroller({
        settings: m.settings,
        clock,
        random,
        logger,
        owd: createOwdState(),
        reselect: { requestReselect: () => {} },
      }, { pluginSections, readTextFile });
      post({ op: "loaded", part, name: controller.name, script: controller.script });
    } else {
      plugins = await createPluginManager({
        settings: m.settings,
        logger,
        clock,
        random,
        mathSeed: m.mathSeed,
        pluginSections,
        readTextFile,
        beforeCall: (plugin) => Atomics.store(running, 0, plugin),
      });
      post({ op: "loaded", part, name: "lua-plugins", active: plugins?.active ?? [] });
    }
  } catch (e) {
    post({ op: "load-error", part, errorName: (e as Error).name, message: (e as Error).message });
  }
}

function unload(part: WorkerPart): void {
  if (part === "controller") {
    controller?.close();
    controller = undefined;
  } else {
    plugins?.close();
    plugins = undefined;
  }
}

function pluginState(p: PluginManager): PartState {
  return { active: p.active, health: p.health, disabledIds: p.disabledIds };
}

function call(
  part: WorkerPart,
  method: string,
  arg: unknown,
): { value: unknown; state?: PartState } {
  if (part === "controller" && controller !== undefined) {
    if (method === "decide") return { value: controller.decide(arg as TickInput) };
    if (method === "history") return { value: controller.speedHistory() };
    if (method === "heap") return { value: controller.heapBytes() };
  }
  if (part === "plugins" && plugins === undefined && method === "adjust") {
    // Every plugin left out of this worker.
    return { value: {}, state: emptyPartState() };
  }
  if (part === "plugins" && plugins !== undefined) {
    if (method === "adjust") {
      return { value: plugins.adjust(arg as AdjusterInput), state: pluginState(plugins) };
    }
    if (method === "heap") return { value: plugins.heapBytes() };
  }
  throw new Error(`Lua worker: no method ${method} of ${part}`);
}

/** Starts answering the host. */
export function serveLuaWorker(): void {
  scope.onmessage = async (ev: MessageEvent<HostMessage>) => {
    const m = ev.data;
    if (m.op === "load") return await load(m);
    if (m.op === "unload") return unload(m.part);
    now = { monoS: m.monoS, wallMs: m.wallMs };
    try {
      post({ op: "result", id: m.id, ...call(m.part, m.method, m.arg) });
    } catch (e) {
      post({ op: "error", id: m.id, message: (e as Error).message });
    }
  };
}
