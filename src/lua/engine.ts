/**
 * A sandboxed Lua 5.4 engine (wasmoon) with a per-call time limit and a memory cap.
 *
 * wasmoon's convenience calls create a Lua thread per call, convert whole tables and install a
 * timeout hook whose deadline cannot be moved; the control loop calls scripts every tick, so this
 * module calls Lua through the C API directly: one hook per engine reading a movable deadline,
 * scalar arguments only (tables are built on the Lua side by the bridge), no chunk re-evaluation.
 * Values cross the boundary only through `src/lua/bridge.ts`.
 */
import type { LuaEngine, LuaFactory } from "wasmoon";
import { loadWasmoon } from "./wasmoon_load.ts";
import { enginePayload } from "./engine_payload.ts";
import { decodeGzipBase64 } from "./gzip_base64.ts";
import { COMPAT_LUA } from "./compat_lib.ts";
import { LuaError, type LuaFailure } from "./errors.ts";

/** A value Lua can receive from or return to the host. */
export type LuaScalar = number | string | boolean | null;

/** A Lua value held in the registry (functions, tables), usable as a call argument. */
export class LuaRef {
  /** Registry index. */
  readonly ref: number;
  /** Wraps a registry index. */
  constructor(ref: number) {
    this.ref = ref;
  }
}

/** A returned Lua value that is not a scalar (table, function, userdata, thread). */
export class LuaOther {
  /** Lua type name, e.g. `table`. */
  readonly type: string;
  /** Wraps the type name. */
  constructor(type: string) {
    this.type = type;
  }
}

/** What a call can return. */
export type LuaResult = LuaScalar | LuaOther;

/** Host functions a sandbox offers to scripts as `sqma.*`. */
export interface SandboxHost {
  /** `sqma.log(level, text)`: level is an upstream name (TRACE … FATAL). */
  log(level: string, text: string): void;
  /** `sqma.random()`: uniform in [0, 1) from the injected source. */
  random(): number;
  /** `sqma.wall_ms()`: wall clock in ms since the epoch (injected clock). */
  wallMs(): number;
  /**
   * `sqma.plugin_options(name)`: a UCI section as Lua table-constructor source (`return {…}`,
   * built by the bridge), or undefined when there is none.
   */
  section(name: string): string | undefined;
}

/** Options of {@link LuaSandbox.create}. */
export interface SandboxOptions {
  /** Per-call time limit in milliseconds (setting `lua_time_limit_ms`). */
  timeLimitMs: number;
  /** Memory cap of the engine in MiB (setting `lua_memory_limit_mb`). */
  memoryLimitMb: number;
  /** Host functions. */
  host: SandboxHost;
  /** Seed for Lua's own `math.random` (default 0: reproducible). */
  mathSeed?: number;
  /**
   * Wall clock in ms for the time limit and {@link LuaSandbox.lastCallMs} (default
   * `performance.now`).
   */
  nowMs?: () => number;
  /**
   * The process's CPU time in ms, undefined where it cannot be read (default {@link processCpuMs}):
   * tells a call held in C from one whose thread was descheduled (src/lua/overrun.ts).
   */
  cpuMs?: () => number | undefined;
}

/** Deno's own reading of the process's CPU time (what `node:process`'s `cpuUsage` reads). */
const denoCpuUsage = (Deno as unknown as { cpuUsage?: () => { user: number; system: number } })
  .cpuUsage;

/**
 * The process's user + system CPU time in ms (all its threads), or undefined where this Deno has
 * no reading: one call of Deno's, about a microsecond, under the release permission set too.
 */
export function processCpuMs(): number | undefined {
  if (typeof denoCpuUsage !== "function") return undefined;
  const u = denoCpuUsage();
  return (u.user + u.system) / 1000;
}

/** The marker the time-limit hook raises; the sandbox's pcall variants re-raise it. */
export const TIMEOUT_MARK = "sqm-autorate: Lua time limit exceeded";

/** Lua 5.4's `LUA_REGISTRYINDEX` (engine_test.ts compares it with wasmoon's). */
export const LUA_REGISTRYINDEX = -1001000;
/** After a timeout fires, the hook waits this long before firing again (host cleanup code). */
const GRACE_MS = 5;
const HOOK_COUNT = 1000;
const LUA_MASKCOUNT = 8;
const LUA_ERRMEM = 4;
const LUA_TNIL = 0;
const LUA_TBOOLEAN = 1;
const LUA_TNUMBER = 3;
const LUA_TSTRING = 4;

let factoryPromise: Promise<LuaFactory> | undefined;

/**
 * The process-wide factory: wasmoon from its embedded bundle (src/lua/wasmoon_load.ts), started
 * from the embedded wasm.
 */
function embeddedFactory(): Promise<LuaFactory> {
  factoryPromise ??= (async () => {
    const payload = await enginePayload();
    const [wasmoon, bytes] = await Promise.all([
      loadWasmoon(payload.wasmoon),
      decodeGzipBase64(payload.glueWasm),
    ]);
    return await wasmoon.startFactory(bytes);
  })();
  return factoryPromise;
}

/** Low-level C API surface we use (wasmoon's `LuaWasm`, typed loosely where its d.ts is wrong). */
// deno-lint-ignore no-explicit-any
type Api = any;

/**
 * Restricts the standard library and defines `sqma`. Runs first in every engine; receives the
 * timeout marker and the host functions as chunk arguments so no global ever exposes them.
 */
const SANDBOX_LUA = `
local TIMEOUT, host_log, host_random, host_wall_ms, host_section, seed = ...
local error, type, tostring, select, find = error, type, tostring, select, string.find
local concat = table.concat
local raw_pcall, raw_xpcall = pcall, xpcall
local traceback = debug.traceback
-- What the compatibility layer's setfenv/getfenv/module need (compat_lib.ts); scripts get only
-- those three functions, never the debug library.
local fenv_debug = {
  getinfo = debug.getinfo, getupvalue = debug.getupvalue, upvaluejoin = debug.upvaluejoin,
}

local function is_timeout(e)
  return type(e) == "string" and find(e, TIMEOUT, 1, true) ~= nil
end
-- A script must not swallow the time limit: protected calls re-raise it.
local function pass(ok, ...)
  if not ok and is_timeout((...)) then error((...), 0) end
  return ok, ...
end
pcall = function(f, ...) return pass(raw_pcall(f, ...)) end
xpcall = function(f, h, ...)
  return pass(raw_xpcall(f, function(e)
    if is_timeout(e) then return e end
    return h(e)
  end, ...))
end
local raw_resume, raw_close = coroutine.resume, coroutine.close
coroutine.resume = function(co, ...) return pass(raw_resume(co, ...)) end
coroutine.close = function(co) return pass(raw_close(co)) end

local function unavailable(name, why)
  return function()
    error(name .. " is not available in sqm-autorate Lua scripts (" .. why .. ")", 2)
  end
end
local function join(...)
  local n = select("#", ...)
  local parts = {}
  for i = 1, n do parts[i] = tostring((select(i, ...))) end
  return concat(parts, "\\t")
end

print = function(...) host_log("INFO", join(...)) end
local function write_to_log(self, ...)
  local text = concat({ ... })
  if text:sub(-1) == "\\n" then text = text:sub(1, -2) end
  host_log("INFO", text)
  return self
end
local stream = { write = write_to_log }
local nofs = "no host filesystem"
io = {
  write = function(...) return write_to_log(io, ...) end,
  stdout = stream,
  stderr = stream,
  open = unavailable("io.open", nofs),
  lines = unavailable("io.lines", nofs),
  read = unavailable("io.read", "no standard input"),
  input = unavailable("io.input", nofs),
  output = unavailable("io.output", nofs),
  popen = unavailable("io.popen", "no processes"),
  tmpfile = unavailable("io.tmpfile", nofs),
  close = unavailable("io.close", nofs),
}
dofile = unavailable("dofile", nofs)
loadfile = unavailable("loadfile", nofs)
local raw_load = load
-- Text chunks only: precompiled bytecode can crash the VM.
load = function(chunk, name, _, env) return raw_load(chunk, name, "t", env) end
local raw_time, raw_date = os.time, os.date
os = {
  time = function(t)
    if t == nil then return host_wall_ms() // 1000 end
    return raw_time(t)
  end,
  date = function(fmt, t) return raw_date(fmt, t or host_wall_ms() // 1000) end,
  clock = os.clock,
  difftime = os.difftime,
  getenv = function() return nil end,
  execute = unavailable("os.execute", "no processes"),
  exit = unavailable("os.exit", "the daemon decides when to stop"),
  remove = unavailable("os.remove", nofs),
  rename = unavailable("os.rename", nofs),
  tmpname = unavailable("os.tmpname", nofs),
  setlocale = unavailable("os.setlocale", "fixed locale"),
}
local loaded = package.loaded
loaded.io, loaded.os = io, os
loaded.debug = nil
require = function(name)
  local m = loaded[name]
  if m ~= nil then return m end
  error("require('" .. tostring(name) .. "') is not available in sqm-autorate Lua scripts: " ..
    "list scripts in plugin_scripts; plugins get util and math from initialise(requires, settings)", 2)
end
package = { loaded = loaded, preload = {}, path = "", cpath = "", config = package.config }
loaded.package = package
-- debug.sethook would remove the time limit; only the traceback stays.
debug = { traceback = traceback }
string.dump = nil
math.randomseed(seed)

sqma = {
  log = function(level, ...) host_log(tostring(level), join(...)) end,
  random = function() return host_random() end,
  wall_ms = function() return host_wall_ms() end,
  plugin_options = function(name)
    local src = host_section(tostring(name))
    if src == nil then return nil end
    return raw_load(src, "=plugin options", "t", {})()
  end,
}

local raw_getmetatable, raw_type, raw_tostring = getmetatable, type, tostring
-- As lua.c's msghandler: an error object that is not a string (error({ code = 1 })) is named by
-- its type, not by its address ("table: 0x11e0d8", a new line in the log every time until the
-- thirtieth session); a number or a value with __tostring is shown as text.
local function message_handler(e)
  local t = raw_type(e)
  if t == "number" then
    e = raw_tostring(e)
  elseif t ~= "string" then
    local mt = raw_getmetatable(e)
    if raw_type(mt) == "table" and mt.__tostring ~= nil then
      e = raw_tostring(e)
    else
      e = "(error object is a " .. t .. " value)"
    end
  end
  return traceback(e, 2)
end
local function collect() collectgarbage("collect") end
local function count() return collectgarbage("count") end
return message_handler, collect, count, fenv_debug
`;

/** One sandboxed Lua state. Not thread-safe; calls are synchronous. */
export class LuaSandbox {
  readonly #engine: LuaEngine;
  readonly #api: Api;
  readonly #L: number;
  readonly #timeLimitMs: number;
  #deadline = Infinity;
  #lastCallMs = 0;
  #lastCallCpuMs: number | undefined;
  readonly #nowMs: () => number;
  readonly #cpuMs: () => number | undefined;
  #hook = 0;
  #msgh!: LuaRef;
  #collect!: LuaRef;
  #count!: LuaRef;
  #closed = false;
  /** Chunk tokens → the names they stand for (see {@link load}). */
  readonly #chunkNames = new Map<string, string>();

  private constructor(engine: LuaEngine, options: SandboxOptions) {
    this.#engine = engine;
    this.#api = engine.global.lua;
    this.#L = engine.global.address;
    this.#timeLimitMs = options.timeLimitMs;
    this.#nowMs = options.nowMs ?? (() => performance.now());
    this.#cpuMs = options.cpuMs ?? processCpuMs;
  }

  /** The per-call time limit, milliseconds (`lua_time_limit_ms`). */
  get timeLimitMs(): number {
    return this.#timeLimitMs;
  }

  /**
   * Wall-clock milliseconds the last call took. Past the time limit without a timeout error it was
   * held inside one C function, where the instruction check cannot stop it (see overrun.ts).
   */
  get lastCallMs(): number {
    return this.#lastCallMs;
  }

  /**
   * CPU time the process used during the last call, ms, read only when that call took longer
   * than the time limit (undefined otherwise, or where it cannot be read). Far below the wall
   * time, the thread was waiting for a core, not held in C.
   */
  get lastCallCpuMs(): number | undefined {
    return this.#lastCallCpuMs;
  }

  /** Starts an engine: embedded wasm, restricted libraries, time limit, memory cap. */
  static async create(options: SandboxOptions): Promise<LuaSandbox> {
    const factory = await embeddedFactory();
    const engine = await factory.createEngine({ traceAllocations: true, enableProxy: false });
    const sandbox = new LuaSandbox(engine, options);
    sandbox.#install(options);
    return sandbox;
  }

  #install(options: SandboxOptions): void {
    const api = this.#api;
    this.#hook = api.module.addFunction((L: number) => {
      const now = this.#nowMs();
      if (now > this.#deadline) {
        this.#deadline = now + GRACE_MS;
        api.lua_pushstring(L, `${TIMEOUT_MARK} (${this.#timeLimitMs} ms)`);
        api.lua_error(L);
      }
    }, "vii");
    api.lua_sethook(this.#L, this.#hook, LUA_MASKCOUNT, HOOK_COUNT);
    const global = this.#engine.global;
    const { host } = options;
    global.set("__sqma_log", (level: unknown, text: unknown) => {
      host.log(String(level), this.#names(String(text)));
    });
    global.set("__sqma_random", () => host.random());
    global.set("__sqma_wall_ms", () => Math.floor(host.wallMs()));
    global.set("__sqma_section", (name: unknown) => host.section(String(name)));
    const names = ["__sqma_log", "__sqma_random", "__sqma_wall_ms", "__sqma_section"];
    const hostFns = names.map((name) => {
      api.lua_getglobal(this.#L, name);
      const ref = new LuaRef(api.luaL_ref(this.#L, LUA_REGISTRYINDEX));
      api.lua_pushnil(this.#L);
      api.lua_setglobal(this.#L, name);
      return ref;
    });
    const chunk = this.load(SANDBOX_LUA, "=sandbox");
    const res = this.callRefs(chunk, [TIMEOUT_MARK, ...hostFns, options.mathSeed ?? 0], 4);
    const fenvDebug = res[3];
    [this.#msgh, this.#collect, this.#count] = res;
    for (const r of [chunk, ...hostFns]) this.release(r);
    const compat = this.load(COMPAT_LUA, "=compat");
    this.call(compat, [fenvDebug], 0);
    this.release(compat);
    this.release(fenvDebug);
    // The cap counts from here: the libraries themselves are not the scripts' budget.
    global.setMemoryMax(global.getMemoryUsed() + options.memoryLimitMb * 1024 * 1024);
  }

  /**
   * Compiles `source` (nothing runs yet). `chunkname` is how messages name it: `@path` gives
   * `path:line: message`, with the whole path (Lua itself cuts names to 60 bytes, so the chunk
   * gets a short token that messages translate back). Throws {@link LuaError} `syntax` naming
   * the file and line.
   */
  load(source: string, chunkname: string): LuaRef {
    this.#assertOpen();
    if (chunkname.startsWith("@")) {
      const token = `<chunk-${this.#chunkNames.size + 1}>`;
      this.#chunkNames.set(token, chunkname.slice(1));
      chunkname = `=${token}`;
    }
    const api = this.#api;
    const mod = api.module;
    const size = mod.lengthBytesUTF8(source);
    const buffer = mod._malloc(size + 1);
    const top = api.lua_gettop(this.#L);
    try {
      mod.stringToUTF8(source, buffer, size + 1);
      const status = api.luaL_loadbufferx(this.#L, buffer, size, chunkname, null);
      if (status !== 0) {
        const message = this.#names(api.luaL_tolstring(this.#L, -1, null));
        throw new LuaError(status === LUA_ERRMEM ? "memory" : "syntax", message);
      }
      return new LuaRef(api.luaL_ref(this.#L, LUA_REGISTRYINDEX));
    } finally {
      mod._free(buffer);
      api.lua_settop(this.#L, top);
    }
  }

  #push(arg: LuaScalar | LuaRef): void {
    const api = this.#api;
    const L = this.#L;
    if (typeof arg === "number") {
      if (Number.isInteger(arg) && Math.abs(arg) <= Number.MAX_SAFE_INTEGER) {
        api.lua_pushinteger(L, BigInt(arg));
      } else api.lua_pushnumber(L, arg);
    } else if (typeof arg === "string") api.lua_pushstring(L, arg);
    else if (typeof arg === "boolean") api.lua_pushboolean(L, arg ? 1 : 0);
    else if (arg === null) api.lua_pushnil(L);
    else api.lua_rawgeti(L, LUA_REGISTRYINDEX, BigInt(arg.ref));
  }

  /** Runs `fn(args…)` under the time limit; leaves `nresults` values (or all: -1) above `base`. */
  #pcall(fn: LuaRef, args: readonly (LuaScalar | LuaRef)[], nresults: number, base: number): void {
    this.#assertOpen();
    const api = this.#api;
    const L = this.#L;
    if (!api.lua_checkstack(L, args.length + 3)) throw new LuaError("memory", "Lua stack overflow");
    if (this.#msgh !== undefined) this.#push(this.#msgh);
    else api.lua_pushnil(L);
    this.#push(fn);
    for (const a of args) this.#push(a);
    const start = this.#nowMs();
    const cpuStart = this.#cpuMs();
    this.#deadline = start + this.#timeLimitMs;
    let status: number;
    try {
      status = api.lua_pcallk(L, args.length, nresults, this.#msgh ? base + 1 : 0, 0, null);
    } finally {
      this.#deadline = Infinity;
      this.#lastCallMs = this.#nowMs() - start;
      // The second reading only for a call that ran long: the rest pay one reading.
      const cpuEnd = this.#lastCallMs > this.#timeLimitMs ? this.#cpuMs() : undefined;
      this.#lastCallCpuMs = cpuStart === undefined || cpuEnd === undefined
        ? undefined
        : cpuEnd - cpuStart;
    }
    if (status !== 0) {
      const message = this.#names(api.luaL_tolstring(L, -1, null) as string);
      api.lua_settop(L, base);
      const kind: LuaFailure = status === LUA_ERRMEM
        ? "memory"
        : message.includes(TIMEOUT_MARK)
        ? "timeout"
        : "error";
      throw new LuaError(kind, kind === "memory" ? `${message} (lua_memory_limit_mb)` : message);
    }
  }

  /** Replaces chunk tokens in a message by the names they stand for. */
  #names(message: string): string {
    if (!message.includes("<chunk-")) return message;
    return message.replace(/<chunk-\d+>/g, (t) => this.#chunkNames.get(t) ?? t);
  }

  /** Calls `fn(args…)` and returns `nresults` values (-1: all) as host values. */
  call(fn: LuaRef, args: readonly (LuaScalar | LuaRef)[], nresults: number): LuaResult[] {
    const L = this.#L;
    const base = this.#api.lua_gettop(L);
    this.#pcall(fn, args, nresults, base);
    const top = this.#api.lua_gettop(L);
    const out: LuaResult[] = [];
    for (let i = base + 2; i <= top; i++) out.push(this.#value(i));
    this.#api.lua_settop(L, base);
    return out;
  }

  /** Calls `fn(args…)` and keeps its first `n` results in the registry. */
  callRefs(fn: LuaRef, args: readonly (LuaScalar | LuaRef)[], n: number): LuaRef[] {
    const api = this.#api;
    const L = this.#L;
    const base = api.lua_gettop(L);
    this.#pcall(fn, args, n, base);
    const refs: LuaRef[] = [];
    // luaL_ref pops the top, so take them from the last result down.
    for (let i = 0; i < n; i++) refs.unshift(new LuaRef(api.luaL_ref(L, LUA_REGISTRYINDEX)));
    api.lua_settop(L, base);
    return refs;
  }

  #value(index: number): LuaResult {
    const api = this.#api;
    const L = this.#L;
    const type = api.lua_type(L, index);
    switch (type) {
      case LUA_TNIL:
        return null;
      case LUA_TBOOLEAN:
        return api.lua_toboolean(L, index) !== 0;
      case LUA_TNUMBER:
        return api.lua_tonumberx(L, index, null);
      case LUA_TSTRING:
        return api.lua_tolstring(L, index, null);
      default:
        return new LuaOther(api.lua_typename(L, type));
    }
  }

  /** Drops a registry reference. */
  release(ref: LuaRef): void {
    if (this.#closed) return;
    this.#api.luaL_unref(this.#L, LUA_REGISTRYINDEX, ref.ref);
  }

  /** Bytes currently allocated by this engine (the allocator's own count). */
  memoryUsed(): number {
    return this.#engine.global.getMemoryUsed();
  }

  /** Runs a full garbage collection. */
  collectGarbage(): void {
    this.call(this.#collect, [], 0);
  }

  /** Lua's own heap figure, `collectgarbage("count")`, in KiB. */
  heapKb(): number {
    return this.call(this.#count, [], 1)[0] as number;
  }

  #assertOpen(): void {
    if (this.#closed) throw new LuaError("error", "Lua engine is closed");
  }

  /** Frees the Lua state. Further calls throw. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#engine.global.close();
    if (this.#hook) this.#api.module.removeFunction(this.#hook);
  }
}
