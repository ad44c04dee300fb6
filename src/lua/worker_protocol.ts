/**
 * The messages between the daemon's thread and the Lua worker (src/lua/isolated.ts and
 * src/lua/worker_entry.ts), and the one synchronous channel the worker uses to ask the host
 * something in the middle of a Lua call (a random number, a UCI section, a script file): the
 * worker posts the question and blocks on a SharedArrayBuffer until the host writes the answer.
 */
import type { Settings } from "../config/types.ts";

/** Name given to Lua workers; main.ts recognises a worker by it. */
export const LUA_WORKER_NAME = "sqm-autorate-lua";

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

/** What the worker hosts. */
export type WorkerKind = "controller" | "plugins";

/** Host → worker. */
export type HostMessage =
  | {
    op: "init";
    kind: WorkerKind;
    settings: Settings;
    mathSeed?: number;
    rpc: SharedArrayBuffer;
    /** One Int32: the id of the plugin being called (read by the host when a call is stuck). */
    running: SharedArrayBuffer;
    monoS: number;
    wallMs: number;
  }
  | { op: "call"; id: number; method: string; arg: unknown; monoS: number; wallMs: number };

/** Worker → host. */
export type WorkerMessage =
  | { op: "ready"; name: string; active?: string[] }
  | { op: "init-error"; errorName: string; message: string }
  | { op: "result"; id: number; value: unknown; active?: string[]; health?: PluginHealth }
  | { op: "error"; id: number; message: string }
  | { op: "log"; level: string; text: string }
  | { op: "rpc"; kind: "random" | "section" | "read"; arg: string };

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
  kind: "random" | "section" | "read",
  arg: string,
): unknown {
  const i32 = new Int32Array(buffer, 0, 2);
  Atomics.store(i32, 0, 0);
  post({ op: "rpc", kind, arg });
  Atomics.wait(i32, 0, 0);
  const n = Atomics.load(i32, 1);
  const text = new TextDecoder().decode(new Uint8Array(buffer, 8, n).slice());
  const answer = JSON.parse(text) as { value?: unknown; error?: string };
  if (answer.error !== undefined) throw new Error(answer.error);
  return answer.value;
}
