/**
 * THE conversion layer between TypeScript and Lua. Nothing else converts values across:
 *
 * - readings / controller inputs → flat number lists; the Lua half below rebuilds them into
 *   tables with upstream's key names and 1-based delta arrays (building tables on the Lua side
 *   is several times cheaper than pushing them field by field through the C API);
 * - settings and UCI sections → Lua table-constructor source, evaluated once;
 * - Lua results → validated numbers: only finite numbers pass; a wrong type, NaN, ±inf or a
 *   negative rate is dropped with a warning naming the script and the field.
 */
import type { Settings } from "../config/types.ts";
import type { TickInput, TickReadings } from "../control/ratecontroller_port.ts";
import { LuaOther, type LuaResult } from "./engine.ts";

/** Scalar readings every plugin gets, in argument order (upstream keys plus additions). */
export const READING_FIELDS = [
  "now_s",
  "tx_load",
  "rx_load",
  "up_del_stat",
  "down_del_stat",
  "up_utilisation",
  "down_utilisation",
  "cur_ul_rate",
  "cur_dl_rate",
  "next_ul_rate",
  "next_dl_rate",
  "dt",
  "ul_bytes",
  "dl_bytes",
  "ul_max_delta_owd",
  "dl_max_delta_owd",
] as const;

/** Scalar fields of a ratecontroller's `calculate(data)`, in argument order. */
export const CONTROLLER_FIELDS = [
  "now_s",
  "tx_load",
  "rx_load",
  "up_del_stat",
  "down_del_stat",
  "up_utilisation",
  "down_utilisation",
  "cur_ul_rate",
  "cur_dl_rate",
  "dt",
  "ul_bytes",
  "dl_bytes",
  "ul_max_delta_owd",
  "dl_max_delta_owd",
] as const;

/** Settings copied into every `calculate(data)` (constant for the controller's lifetime). */
export const CONTROLLER_CONSTANTS = [
  "base_ul_rate",
  "base_dl_rate",
  "min_ul_rate",
  "min_dl_rate",
  "max_ul_rate",
  "max_dl_rate",
  "high_load_level",
  "histsize",
] as const;

const luaList = (names: readonly string[]) => `{ ${names.map((n) => `"${n}"`).join(", ")} }`;

/**
 * The Lua half of the bridge. Chunk argument: the util module. Returns the entry points the
 * plugin manager and the Lua ratecontroller call ({@link BRIDGE_ENTRY_POINTS}); scripts never
 * see them.
 */
export const BRIDGE_LUA = `
local util = ...
local type, pairs, setmetatable, rawset, error = type, pairs, setmetatable, rawset, error
local host_random, plugin_options = sqma.random, sqma.plugin_options
local R = ${luaList(READING_FIELDS)}
local C = ${luaList(CONTROLLER_FIELDS)}
local K = ${luaList(CONTROLLER_CONSTANTS)}
local NR, NC = #R, #C

-- a = { scalars (fields n), #ul, ul..., #dl, dl... }
local function build(a, fields, n)
  local t = {}
  for i = 1, n do t[fields[i]] = a[i] end
  local k = n + 1
  local c = a[k]
  local ul = {}
  for j = 1, c do ul[j] = a[k + j] end
  k = k + c + 1
  c = a[k]
  local dl = {}
  for j = 1, c do dl[j] = a[k + j] end
  t.ul_deltas, t.dl_deltas = ul, dl
  return t
end
-- Numbers and nil pass; anything else becomes "<type>" so the host can name it.
local function num(v)
  if v == nil or type(v) == "number" then return v end
  return "<" .. type(v) .. ">"
end

local B = {}
local requires = { util = util, math = math }

function B.prepare_settings(s, has_sections)
  s.log_level = util.loglevel[s.log_level] or util.loglevel.INFO
  s.plugin = function(name)
    if not has_sections then return {} end
    return plugin_options(name)
  end
  return s
end

local plugins = {}
function B.plugin_load(id, chunk, settings)
  local m = chunk()
  if type(m) ~= "table" then return "no_table", type(m) end
  if type(m.initialise) == "function" then
    local r = m.initialise(requires, settings)
    if r ~= nil then m = r end
    if type(m) ~= "table" then return "no_table", type(m) end
  end
  if type(m.process) ~= "function" then return "no_process" end
  plugins[id] = m
  local name = m.name
  if type(name) ~= "string" then name = nil end
  return "ok", name
end
function B.plugin_process(id, ...)
  local res = plugins[id].process(build({ ... }, R, NR))
  if type(res) ~= "table" then return "<" .. type(res) .. ">" end
  return true, num(res.next_ul_rate), num(res.next_dl_rate), num(res.ul_max_delta_owd),
    num(res.dl_max_delta_owd)
end
function B.plugin_drop(id) plugins[id] = nil end

local ctrl
local consts = {}
local data_mt = {
  __index = function(t, k)
    if k == "random" then
      local r = host_random()
      rawset(t, "random", r)
      return r
    end
  end,
}
function B.ctrl_load(chunk, settings)
  local m = chunk()
  if type(m) ~= "table" then return "no_table", type(m) end
  if type(m.calculate) ~= "function" then return "no_calculate" end
  for _, k in ipairs(K) do consts[k] = settings[k] end
  ctrl = m
  if type(m.configure) == "function" then m.configure(settings) end
  if type(m.name) == "string" then return "ok", m.name end
  return "ok"
end
function B.ctrl_calculate(...)
  local d = build({ ... }, C, NC)
  for k, v in pairs(consts) do d[k] = v end
  setmetatable(d, data_mt)
  local r = ctrl.calculate(d)
  if type(r) ~= "table" then return "<" .. type(r) .. ">" end
  local rs = r.reselect
  if rs ~= nil and type(rs) ~= "boolean" then rs = "<" .. type(rs) .. ">" end
  return true, num(r.next_dl_rate), num(r.next_ul_rate), rs
end
-- { #up, up..., #down, down... } or nothing when the script keeps no history.
function B.ctrl_history()
  if type(ctrl.speed_history) ~= "function" then return end
  local h = ctrl.speed_history()
  if type(h) ~= "table" or type(h.up) ~= "table" or type(h.down) ~= "table" then return end
  local out = { #h.up }
  for i = 1, #h.up do out[#out + 1] = num(h.up[i]) end
  out[#out + 1] = #h.down
  for i = 1, #h.down do out[#out + 1] = num(h.down[i]) end
  return table.unpack(out)
end
return B.prepare_settings, B.plugin_load, B.plugin_process, B.plugin_drop, B.ctrl_load,
  B.ctrl_calculate, B.ctrl_history
`;

/** The entry points `BRIDGE_LUA` returns, in order. */
export const BRIDGE_ENTRY_POINTS = [
  "prepare_settings",
  "plugin_load",
  "plugin_process",
  "plugin_drop",
  "ctrl_load",
  "ctrl_calculate",
  "ctrl_history",
] as const;

/** Plugin-side inputs: the readings plus the proposal and thresholds as they stand now. */
export interface PluginInputs {
  /** This tick's readings. */
  readings: TickReadings;
  /** Proposed upload rate after the controller and earlier plugins. */
  next_ul_rate: number;
  /** Proposed download rate. */
  next_dl_rate: number;
  /** Upload threshold in force. */
  ul_max_delta_owd: number;
  /** Download threshold in force. */
  dl_max_delta_owd: number;
}

function pushDeltas(out: number[], readings: TickReadings): number[] {
  out.push(readings.ul_deltas.length, ...readings.ul_deltas);
  out.push(readings.dl_deltas.length, ...readings.dl_deltas);
  return out;
}

/**
 * Arguments of `plugin_process`. `now_s` is whole seconds, as upstream's readings (§4.5).
 */
export function pluginArgs(p: PluginInputs): number[] {
  const r = p.readings;
  return pushDeltas([
    Math.floor(r.now_s),
    r.tx_load,
    r.rx_load,
    r.up_del_stat,
    r.down_del_stat,
    r.up_utilisation,
    r.down_utilisation,
    r.cur_ul_rate,
    r.cur_dl_rate,
    p.next_ul_rate,
    p.next_dl_rate,
    r.dt,
    r.ul_bytes,
    r.dl_bytes,
    p.ul_max_delta_owd,
    p.dl_max_delta_owd,
  ], r);
}

/** Arguments of `ctrl_calculate`. */
export function controllerArgs(input: TickInput): number[] {
  const r = input.readings;
  return pushDeltas([
    Math.floor(r.now_s),
    r.tx_load,
    r.rx_load,
    r.up_del_stat,
    r.down_del_stat,
    r.up_utilisation,
    r.down_utilisation,
    r.cur_ul_rate,
    r.cur_dl_rate,
    r.dt,
    r.ul_bytes,
    r.dl_bytes,
    input.ul_max_delta_owd,
    input.dl_max_delta_owd,
  ], r);
}

/** A Lua string literal for `s`. */
export function luaString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === "\\") out += "\\\\";
    else if (ch === '"') out += '\\"';
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (c < 32 || c === 127) out += `\\${c.toString().padStart(3, "0")}`;
    else out += ch;
  }
  return out + '"';
}

/** A Lua literal for a host value (numbers, strings, booleans, arrays, plain objects). */
export function luaLiteral(value: unknown): string {
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "(0/0)";
    if (value === Infinity) return "math.huge";
    if (value === -Infinity) return "(-math.huge)";
    // Integral values stay Lua integers, like upstream's settings.
    return Number.isInteger(value) ? value.toFixed(0) : String(value);
  }
  if (typeof value === "string") return luaString(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  if (value === null || value === undefined) return "nil";
  if (Array.isArray(value)) return `{ ${value.map(luaLiteral).join(", ")} }`;
  if (typeof value === "object") {
    const parts = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `[${luaString(k)}] = ${luaLiteral(v)}`);
    return `{ ${parts.join(", ")} }`;
  }
  return "nil";
}

/**
 * Source of upstream's settings table (docs/plugins.md, `settings`): every setting under its internal
 * name, plus upstream names we spell differently. `log_level` stays a name here; the Lua half
 * turns it into the level table and adds `plugin(name)`.
 */
export function settingsToLua(settings: Settings): string {
  const s: Record<string, unknown> = { ...settings };
  s.tick_duration = settings.tick_interval;
  s.output_statistics = !settings.suppress_statistics;
  s.reflector_list_icmp = settings.reflector_list_file;
  s.reflector_list_udp = "";
  s.enable_verbose_baseline_output = false;
  return `return ${luaLiteral(s)}`;
}

/** One UCI section's options as `settings.plugin(name)` returns it (with upstream's meta keys). */
export type UciSectionOptions = Record<string, string | string[]>;

/**
 * Source of one section for `settings.plugin(type)`: options as strings (lists as arrays),
 * plus libuci's meta keys `.name`, `.type`, `.anonymous` (boolean) and `.index` (number) when
 * the caller did not supply them.
 */
export function sectionToLua(type: string, section: UciSectionOptions): string {
  const t: Record<string, unknown> = {
    ".name": `@${type}[0]`,
    ".type": type,
    ".anonymous": true,
    ".index": 0,
  };
  for (const [k, v] of Object.entries(section)) {
    if (k === ".anonymous") t[k] = v === "true" || v === "1";
    else if (k === ".index") t[k] = Number(v);
    else t[k] = v;
  }
  return `return ${luaLiteral(t)}`;
}

/** A validated value, or a warning explaining why it was dropped. */
export interface Checked {
  /** The accepted value. */
  value?: number;
  /** Why the value was dropped. */
  warning?: string;
}

function describe(v: LuaResult): string {
  if (v instanceof LuaOther) return `a ${v.type}`;
  if (typeof v === "string") return v.startsWith("<") ? `a ${v.slice(1, -1)}` : `a string`;
  if (typeof v === "boolean") return "a boolean";
  return String(v);
}

/**
 * Accepts a finite number (≥ 0 for rates, > 0 for thresholds); `null` (absent) gives neither
 * value nor warning.
 */
export function checkNumber(
  where: string,
  field: string,
  v: LuaResult,
  kind: "rate" | "threshold",
): Checked {
  if (v === null || v === undefined) return {};
  if (typeof v !== "number") {
    return { warning: `${where}: ${field} is ${describe(v)}, expected a number; ignored` };
  }
  if (!Number.isFinite(v)) return { warning: `${where}: ${field} is ${v}; ignored` };
  if (kind === "rate" && v < 0) {
    return { warning: `${where}: ${field} is negative (${v}); ignored` };
  }
  if (kind === "threshold" && v <= 0) {
    return { warning: `${where}: ${field} must be > 0 ms (got ${v}); ignored` };
  }
  return { value: v };
}

/** Validated `process()` results. */
export interface PluginResults {
  /** Accepted values by result key. */
  values: {
    next_ul_rate?: number;
    next_dl_rate?: number;
    ul_max_delta_owd?: number;
    dl_max_delta_owd?: number;
  };
  /** One line per dropped value (or a wrong result type). */
  warnings: string[];
}

/** Decodes what `plugin_process` returned for the script `where`. */
export function decodePluginResults(where: string, r: LuaResult[]): PluginResults {
  if (r[0] !== true) {
    return {
      values: {},
      warnings: [`${where}: process() returned ${describe(r[0] ?? null)}, expected a table`],
    };
  }
  const out: PluginResults = { values: {}, warnings: [] };
  const fields = [
    ["next_ul_rate", "rate"],
    ["next_dl_rate", "rate"],
    ["ul_max_delta_owd", "threshold"],
    ["dl_max_delta_owd", "threshold"],
  ] as const;
  fields.forEach(([field, kind], i) => {
    const c = checkNumber(`${where}: process()`, field, r[i + 1] ?? null, kind);
    if (c.value !== undefined) out.values[field] = c.value;
    if (c.warning) out.warnings.push(c.warning);
  });
  return out;
}

/** Validated `calculate()` results. */
export interface ControllerResults {
  /** Accepted download rate. */
  next_dl_rate?: number;
  /** Accepted upload rate. */
  next_ul_rate?: number;
  /** The script asked for a reflector reselection. */
  reselect: boolean;
  /** One line per dropped or missing value. */
  warnings: string[];
}

/** Decodes what `ctrl_calculate` returned for the script `where`. */
export function decodeControllerResults(where: string, r: LuaResult[]): ControllerResults {
  if (r[0] !== true) {
    return {
      reselect: false,
      warnings: [`${where}: calculate() returned ${describe(r[0] ?? null)}, expected a table`],
    };
  }
  const out: ControllerResults = { reselect: false, warnings: [] };
  const dl = checkNumber(`${where}: calculate()`, "next_dl_rate", r[1] ?? null, "rate");
  const ul = checkNumber(`${where}: calculate()`, "next_ul_rate", r[2] ?? null, "rate");
  for (const [c, field] of [[dl, "next_dl_rate"], [ul, "next_ul_rate"]] as const) {
    if (c.warning) out.warnings.push(c.warning);
    else if (c.value === undefined) {
      out.warnings.push(`${where}: calculate() returned no ${field}`);
    }
  }
  out.next_dl_rate = dl.value;
  out.next_ul_rate = ul.value;
  const rs = r[3] ?? null;
  if (rs === true) out.reselect = true;
  else if (rs !== null && rs !== false) {
    out.warnings.push(`${where}: calculate() reselect is ${describe(rs)}, expected a boolean`);
  }
  return out;
}

/** Decodes `ctrl_history` (`#up, up…, #down, down…`); undefined when the script keeps none. */
export function decodeHistory(r: LuaResult[]): { up: number[]; down: number[] } | undefined {
  if (r.length === 0 || typeof r[0] !== "number") return undefined;
  const nUp = r[0];
  const up = r.slice(1, 1 + nUp).map((v) => (typeof v === "number" ? v : NaN));
  const nDown = r[1 + nUp];
  if (typeof nDown !== "number") return undefined;
  const down = r.slice(2 + nUp, 2 + nUp + nDown).map((v) => (typeof v === "number" ? v : NaN));
  return { up, down };
}
