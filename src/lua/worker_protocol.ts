/**
 * The messages between the daemon's thread and its Lua worker (src/lua/isolated.ts and
 * src/lua/worker_entry.ts), and the one synchronous channel the worker uses to ask the host
 * something in the middle of a Lua call (a random number, a UCI section, a script file): the
 * worker posts the question and blocks on a SharedArrayBuffer until the host writes the answer.
 *
 * One worker hosts every Lua part of a daemon: the Lua ratecontroller and the plugins, each in
 * its own Lua state within the worker's one Lua engine (docs/plugins.md, "Time limit").
 */
import type { Settings } from "../config/types.ts";
import type { EnginePayload } from "./engine_payload.ts";

/** Size of the synchronous answer buffer (a script file must fit). */
export const RPC_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * Random numbers fetched per round trip. The host draws them in order from the injected source,
 * so a source only the worker uses gives the same sequence as in process.
 */
export const RANDOM_BATCH = 64;

/** The plugin manager's failure counts (for metrics). */
export interface PluginHealth {
  /** Failed `process()` calls so far. */
  errors: number;
  /** Plugins disabled for failing. */
  disabled: string[];
}

/** What the worker hosts: the Lua ratecontroller, the plugins, or both. */
export type WorkerPart = "controller" | "plugins";

/** Host → worker. */
export type HostMessage =
  | {
    op: "load";
    part: WorkerPart;
    settings: Settings;
    mathSeed?: number;
    rpc: SharedArrayBuffer;
    /** One Int32: the id of the plugin being called (read by the host when a call is stuck). */
    running: SharedArrayBuffer;
    monoS: number;
    wallMs: number;
    /** glue.wasm and the wasmoon bundle, with the first load of a worker (it has no copy). */
    payload?: EnginePayload;
  }
  | { op: "unload"; part: WorkerPart }
  | {
    op: "call";
    id: number;
    part: WorkerPart;
    method: string;
    arg: unknown;
    monoS: number;
    wallMs: number;
  };

/** A loaded part's state after a call (plugins only). */
export interface PartState {
  /** Active plugins. */
  active: string[];
  /** Failure counts. */
  health: PluginHealth;
  /** 1-based positions (in the loaded list) of the plugins disabled for failing. */
  disabledIds: number[];
}

/** The state of a part with no plugin running (none loaded yet, or every one left out). */
export function emptyPartState(): PartState {
  return { active: [], health: { errors: 0, disabled: [] }, disabledIds: [] };
}

/** Worker → host. */
export type WorkerMessage =
  | { op: "loaded"; part: WorkerPart; name: string; script?: string; active?: string[] }
  | { op: "load-error"; part: WorkerPart; errorName: string; message: string }
  | { op: "result"; id: number; value: unknown; state?: PartState }
  | { op: "error"; id: number; message: string }
  | { op: "log"; part: WorkerPart; level: string; text: string }
  | { op: "rpc"; part: WorkerPart; kind: "random" | "section" | "read"; arg: string };

/** Writes an answer (JSON) into the buffer and wakes the waiting worker. */
export function answerRpc(buffer: SharedArrayBuffer, answer: { value?: unknown; error?: string }) {
  const i32 = new Int32Array(buffer, 0, 2);
  const bytes = new TextEncoder().encode(JSON.stringify(answer));
  if (bytes.length > buffer.byteLength - 8) {
    return answerRpc(buffer, { error: `answer too large (${bytes.length} bytes)` });
  }
  new Uint8Array(buffer, 8).set(bytes);
  Atomics.store(i32, 1, bytes.length);
  Atomics.store(i32, 0, 1);
  Atomics.notify(i32, 0);
}

/** Worker side: asks the host and blocks until it answers. */
export function askHost(
  buffer: SharedArrayBuffer,
  post: (m: WorkerMessage) => void,
  question: { part: WorkerPart; kind: "random" | "section" | "read"; arg: string },
): unknown {
  const i32 = new Int32Array(buffer, 0, 2);
  Atomics.store(i32, 0, 0);
  post({ op: "rpc", ...question });
  Atomics.wait(i32, 0, 0);
  const n = Atomics.load(i32, 1);
  const text = new TextDecoder().decode(new Uint8Array(buffer, 8, n).slice());
  const answer = JSON.parse(text) as { value?: unknown; error?: string };
  if (answer.error !== undefined) throw new Error(answer.error);
  return answer.value;
}
