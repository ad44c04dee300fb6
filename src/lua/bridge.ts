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
import type { TickReadings } from "../control/ratecontroller_port.ts";
import { rateBounds } from "../control/rate_bounds.ts";
import type { UciSectionOptions } from "./config.ts";
import { LuaOther, type LuaResult } from "./engine.ts";
import { numberText, valueText } from "./value_text.ts";

/** What one call into Lua is built from (a plugin's proposal fields are absent for controllers). */
export interface BridgeInput {
  /** This tick's readings. */
  readings: TickReadings;
  /** Upload delay threshold in force, ms. */
  ul_max_delta_owd: number;
  /** Download delay threshold in force, ms. */
  dl_max_delta_owd: number;
  /** Plugins: proposed upload rate after the controller and earlier plugins, kbit/s. */
  next_ul_rate?: number;
  /** Plugins: proposed download rate, kbit/s. */
  next_dl_rate?: number;
}

/** Where a plugin gets a field: upstream's `readings` table, or the second argument `extra`. */
export type PluginPlace = "readings" | "extra";

/** One scalar input crossing into Lua. */
export interface InputField {
  /** Lua key. */
  readonly key: string;
  /** Unit, as docs/plugins.md prints it. */
  readonly unit: string;
  /** What it means, as docs/plugins.md prints it. */
  readonly meaning: string;
  /** Where plugins get it; absent: plugins do not. */
  readonly plugin?: PluginPlace;
  /** Lua ratecontrollers get it in `calculate(data)`. */
  readonly controller: boolean;
  /** Reads the value from the host side. */
  readonly get: (input: BridgeInput) => number;
}

/**
 * THE table of per-call scalar inputs, in argument order. Both directions of the bridge (the
 * host's argument lists and the Lua half's key lists) and the docs test are derived from it:
 * adding a field to `calculate(data)` or to plugins is one line here.
 */
// deno-fmt-ignore
export const INPUT_FIELDS: readonly InputField[] = [
  // upstream's readings (interfaces: process(readings)), in upstream's order
  { key: "now_s", unit: "s", meaning: "seconds since the controller started (fractional)", plugin: "readings", controller: true, get: (i) => i.readings.now_s },
  { key: "tx_load", unit: "ratio", meaning: "upload utilisation / current upload rate", plugin: "readings", controller: true, get: (i) => i.readings.tx_load },
  { key: "rx_load", unit: "ratio", meaning: "download utilisation / current download rate", plugin: "readings", controller: true, get: (i) => i.readings.rx_load },
  { key: "up_del_stat", unit: "ms", meaning: "upload delay statistic (3rd smallest delta)", plugin: "readings", controller: true, get: (i) => i.readings.up_del_stat },
  { key: "down_del_stat", unit: "ms", meaning: "download delay statistic (3rd smallest delta)", plugin: "readings", controller: true, get: (i) => i.readings.down_del_stat },
  { key: "up_utilisation", unit: "kbit/s", meaning: "measured upload throughput", plugin: "readings", controller: true, get: (i) => i.readings.up_utilisation },
  { key: "down_utilisation", unit: "kbit/s", meaning: "measured download throughput", plugin: "readings", controller: true, get: (i) => i.readings.down_utilisation },
  { key: "cur_ul_rate", unit: "kbit/s", meaning: "upload rate in force", plugin: "readings", controller: true, get: (i) => i.readings.cur_ul_rate },
  { key: "cur_dl_rate", unit: "kbit/s", meaning: "download rate in force", plugin: "readings", controller: true, get: (i) => i.readings.cur_dl_rate },
  { key: "next_ul_rate", unit: "kbit/s", meaning: "proposed upload rate so far (controller, then earlier plugins); not yet clamped", plugin: "readings", controller: false, get: (i) => i.next_ul_rate ?? NaN },
  { key: "next_dl_rate", unit: "kbit/s", meaning: "proposed download rate so far; not yet clamped", plugin: "readings", controller: false, get: (i) => i.next_dl_rate ?? NaN },
  // additions
  { key: "dt", unit: "s", meaning: "time since the previous tick", plugin: "extra", controller: true, get: (i) => i.readings.dt },
  { key: "ul_bytes", unit: "bytes", meaning: "upload bytes moved in the interval (counter delta)", plugin: "extra", controller: true, get: (i) => i.readings.ul_bytes },
  { key: "dl_bytes", unit: "bytes", meaning: "download bytes moved in the interval", plugin: "extra", controller: true, get: (i) => i.readings.dl_bytes },
  { key: "ul_max_delta_owd", unit: "ms", meaning: "upload delay threshold in force (plugins may change it)", plugin: "extra", controller: true, get: (i) => i.ul_max_delta_owd },
  { key: "dl_max_delta_owd", unit: "ms", meaning: "download delay threshold in force", plugin: "extra", controller: true, get: (i) => i.dl_max_delta_owd },
];

/** Plugin fields of upstream's `readings` table, in argument order. */
export const PLUGIN_READING_FIELDS = INPUT_FIELDS.filter((f) => f.plugin === "readings");
/** Plugin fields of the `extra` table, in argument order (after the readings). */
export const PLUGIN_EXTRA_FIELDS = INPUT_FIELDS.filter((f) => f.plugin === "extra");
/** Fields of `calculate(data)`, in argument order. */
export const CONTROLLER_FIELDS = INPUT_FIELDS.filter((f) => f.controller);

/** Settings-derived constants copied into every `calculate(data)`. */
// deno-fmt-ignore
export const CONTROLLER_CONSTANTS: readonly {
  readonly key: string;
  readonly unit: string;
  readonly meaning: string;
  readonly get: (s: Settings) => number;
}[] = [
  { key: "base_ul_rate", unit: "kbit/s", meaning: "upload base rate (setting)", get: (s) => s.base_ul_rate },
  { key: "base_dl_rate", unit: "kbit/s", meaning: "download base rate (setting)", get: (s) => s.base_dl_rate },
  { key: "min_ul_rate", unit: "kbit/s", meaning: "upload minimum rate (derived from the min percent)", get: (s) => s.min_ul_rate },
  { key: "min_dl_rate", unit: "kbit/s", meaning: "download minimum rate", get: (s) => s.min_dl_rate },
  { key: "max_ul_rate", unit: "kbit/s", meaning: "upload max setting as configured; 0 = none", get: (s) => s.max_ul_rate },
  { key: "max_dl_rate", unit: "kbit/s", meaning: "download max setting as configured; 0 = none", get: (s) => s.max_dl_rate },
  { key: "ul_rate_ceiling", unit: "kbit/s", meaning: "highest upload rate the loop applies: max_ul_rate, or 10 x base when it is 0", get: (s) => rateBounds(s, "ul").max },
  { key: "dl_rate_ceiling", unit: "kbit/s", meaning: "highest download rate the loop applies (as above)", get: (s) => rateBounds(s, "dl").max },
  { key: "high_load_level", unit: "ratio", meaning: "load above which a rate may grow (setting)", get: (s) => s.high_load_level },
  { key: "histsize", unit: "count", meaning: "safe rates remembered per direction (setting)", get: (s) => s.histsize },
];

const luaList = (names: readonly string[]) => `{ ${names.map((n) => `"${n}"`).join(", ")} }`;
const keys = (fields: readonly { key: string }[]) => luaList(fields.map((f) => f.key));

/**
 * The Lua half of the bridge. Chunk argument: the util module. Returns the entry points the
 * plugin manager and the Lua ratecontroller call ({@link BRIDGE_ENTRY_POINTS}); scripts never
 * see them. Argument lists: the table's scalars, then {@link pushArrays}' layout.
 */
export const BRIDGE_LUA = `
local util = ...
local type, pairs, setmetatable, rawset, error = type, pairs, setmetatable, rawset, error
local next, getmetatable, tostring = next, getmetatable, tostring
local host_random, plugin_options = sqma.random, sqma.plugin_options
local R = ${keys(PLUGIN_READING_FIELDS)}
local X = ${keys(PLUGIN_EXTRA_FIELDS)}
local C = ${keys(CONTROLLER_FIELDS)}
local K = ${keys(CONTROLLER_CONSTANTS)}
local NR, NX, NC = #R, #X, #C

-- From a[k]: #ul, ul..., #dl, dl..., #samples, (reflector, ul_delta, dl_delta, age_s, ul_last, dl_last)...
local function arrays(t, a, k)
  local c = a[k]
  local ul = {}
  for j = 1, c do ul[j] = a[k + j] end
  k = k + c + 1
  c = a[k]
  local dl = {}
  for j = 1, c do dl[j] = a[k + j] end
  k = k + c + 1
  c = a[k]
  local sm = {}
  for j = 1, c do
    local b = k + (j - 1) * 6
    sm[j] = { reflector = a[b + 1], ul_delta = a[b + 2], dl_delta = a[b + 3], age_s = a[b + 4],
      ul_last = a[b + 5], dl_last = a[b + 6] }
  end
  t.ul_deltas, t.dl_deltas, t.samples = ul, dl, sm
  return t
end
-- Numbers and nil pass; anything else becomes "<type>" so the host can name it.
local function num(v)
  if v == nil or type(v) == "number" then return v end
  return "<" .. type(v) .. ">"
end

local B = {}
-- utilities: the same module under the name upstream's develop and lua-threads plugins read
-- (docs/plugins.md, Plugins).
local requires = { util = util, utilities = util, math = math }

function B.prepare_settings(s)
  s.log_level = util.loglevel[s.log_level] or util.loglevel.INFO
  -- One rule everywhere: the section's table, or an empty table when there is none.
  s.plugin = function(name) return plugin_options(name) or {} end
  return s
end

local plugins = {}
-- Globals the plugins set, and which plugin set each: all plugins share one Lua state (as
-- upstream's require does), so two plugins that both set a global at load (M = {}, count = 0)
-- share one value and each one's functions run on the other's. The values live in _G itself, as
-- with upstream (rawget, next and a plugin's own metatable on _G see them). While a plugin loads,
-- the globals earlier plugins set are moved out of _G into pglobals (read through _G's __index, a
-- table: no call), so its assignments to them reach set_global, which notes the plugin that set
-- each one and names a second plugin setting it once; at the load's end (or the next call, after a
-- load that raised) they go back. Outside a load only a global's first set reaches set_global, so
-- a clash first made in process() is not seen (docs/plugins.md, "Plugins"). A plugin that
-- replaced _G's metatable turns the check off. Globals that existed before the plugins (the
-- libraries) are never noted.
local pglobals, gowner, gnamed, gdisplay = {}, {}, {}, {}
local current -- id of the plugin being loaded or called
local loading = false -- the earlier plugins' globals are in pglobals
local clash_text -- the clashes not yet handed to the host, or nil
local function set_global(t, k, v)
  local by = current
  if by ~= nil then
    local was = gowner[k]
    if was == nil then
      gowner[k] = by
    elseif was ~= by and not gnamed[k] then
      gnamed[k] = true
      local line = gdisplay[by] .. "\\t" .. tostring(k) .. "\\t" .. gdisplay[was]
      clash_text = clash_text and clash_text .. "\\n" .. line or line
    end
  end
  if loading then pglobals[k] = v else rawset(t, k, v) end
end
local function global_pairs(g)
  local in_g, k = true, nil
  return function()
    local v
    if in_g then
      k, v = next(g, k)
      if k ~= nil then return k, v end
      in_g = false
    end
    k, v = next(pglobals, k)
    return k, v
  end, g, nil
end
local global_mt = { __index = pglobals, __newindex = set_global, __pairs = global_pairs }
local function unhide_globals()
  loading = false
  for k, v in next, pglobals do
    rawset(_G, k, v)
    pglobals[k] = nil
  end
end
local function hide_globals()
  if loading then unhide_globals() end
  if getmetatable(_G) == nil then setmetatable(_G, global_mt) end
  if getmetatable(_G) ~= global_mt then return end
  for k in next, gowner do
    local v = rawget(_G, k)
    if v ~= nil then
      pglobals[k] = v
      rawset(_G, k, nil)
    end
  end
  loading = true
end
local function take_clashes()
  local c = clash_text
  clash_text = nil
  return c
end
local function load_plugin(id, chunk, settings, modname)
  local m = chunk(modname)
  if m == nil then m = package.loaded[modname] end
  if type(m) ~= "table" then return "no_table", type(m) end
  if type(m.initialise) == "function" then
    local r = m.initialise(requires, settings)
    if r ~= nil then m = r end
    if type(m) ~= "table" then return "no_table", type(m) end
  end
  if type(m.process) ~= "function" then return "no_process", nil end
  plugins[id] = m
  local name = m.name
  if type(name) ~= "string" then name = nil end
  return "ok", name
end
-- modname: what upstream would require() (the file's name less .lua); a Lua 5.1 module(...)
-- chunk returns nothing and leaves its table in package.loaded, as require then reads it.
function B.plugin_load(id, chunk, settings, modname, display)
  hide_globals()
  current = id
  gdisplay[id] = display
  local status, name = load_plugin(id, chunk, settings, modname)
  unhide_globals()
  return status, name, take_clashes()
end
-- Upstream's readings table holds upstream's keys only; additions go in a second argument.
function B.plugin_process(id, ...)
  if loading then unhide_globals() end -- the last load raised
  current = id
  local a = { ... }
  local r, x = {}, {}
  for i = 1, NR do r[R[i]] = a[i] end
  for i = 1, NX do x[X[i]] = a[NR + i] end
  local res = plugins[id].process(r, arrays(x, a, NR + NX + 1))
  -- A clash is rare: the host checks one more result, nil on every other call.
  local c = clash_text
  if c ~= nil then clash_text = nil end
  if type(res) ~= "table" then return "<" .. type(res) .. ">", nil, nil, nil, nil, c end
  return true, num(res.next_ul_rate), num(res.next_dl_rate), num(res.ul_max_delta_owd),
    num(res.dl_max_delta_owd), c
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
-- The Rust port's Lua algorithms (docs/plugins.md, "The Rust port's Lua algorithms"): init(config)
-- instead of configure(settings), calculate(ctx) reading its own names, results under its names.
local rust_port = false
local function rust_config(settings)
  local c = {}
  for k, v in pairs(settings) do c[k] = v end
  c.download_delay_ms, c.upload_delay_ms = settings.dl_max_delta_owd, settings.ul_max_delta_owd
  c.speed_hist_size = settings.histsize
  return c
end
function B.ctrl_load(chunk, settings, ...)
  local m = chunk()
  if type(m) ~= "table" then return "no_table", type(m) end
  if type(m.calculate) ~= "function" then return "no_calculate" end
  local v = { ... }
  for i = 1, #K do consts[K[i]] = v[i] end
  ctrl = m
  rust_port = type(m.configure) ~= "function" and type(m.init) == "function"
  if rust_port then
    m.init(rust_config(settings))
  elseif type(m.configure) == "function" then
    m.configure(settings)
  end
  if type(m.name) == "string" then return "ok", m.name end
  return "ok"
end
function B.ctrl_calculate(...)
  local a = { ... }
  local d = {}
  for i = 1, NC do d[C[i]] = a[i] end
  arrays(d, a, NC + 1)
  for k, v in pairs(consts) do d[k] = v end
  if rust_port then
    d.current_dl_rate, d.current_ul_rate = d.cur_dl_rate, d.cur_ul_rate
    d.dl_utilisation, d.ul_utilisation = d.down_utilisation, d.up_utilisation
    d.elapsed_secs = d.dt
  end
  setmetatable(d, data_mt)
  local r = ctrl.calculate(d)
  if type(r) ~= "table" then return "<" .. type(r) .. ">" end
  local rs, dl, ul = r.reselect, r.next_dl_rate, r.next_ul_rate
  if rust_port then rs, dl, ul = r.trigger_reselect, r.dl_rate, r.ul_rate end
  if rs ~= nil and type(rs) ~= "boolean" then rs = "<" .. type(rs) .. ">" end
  return true, num(dl), num(ul), rs
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

/** A value of an argument list into Lua. */
export type ArgValue = number | string;

/** Appends the delta arrays and the per-reflector samples in the layout the Lua half reads. */
export function pushArrays(out: ArgValue[], readings: TickReadings): ArgValue[] {
  out.push(readings.ul_deltas.length, ...readings.ul_deltas);
  out.push(readings.dl_deltas.length, ...readings.dl_deltas);
  const samples = readings.samples ?? [];
  out.push(samples.length);
  for (const s of samples) {
    out.push(s.reflector, s.ul_delta, s.dl_delta, s.age_s, s.ul_last ?? s.ul_delta);
    out.push(s.dl_last ?? s.dl_delta);
  }
  return out;
}

/** Arguments of `plugin_process` (after the plugin id): readings, extra, arrays. */
export function pluginArgs(input: BridgeInput): ArgValue[] {
  const out: ArgValue[] = PLUGIN_READING_FIELDS.map((f) => f.get(input));
  for (const f of PLUGIN_EXTRA_FIELDS) out.push(f.get(input));
  return pushArrays(out, input.readings);
}

/** Arguments of `ctrl_calculate`. */
export function controllerArgs(input: BridgeInput): ArgValue[] {
  return pushArrays(CONTROLLER_FIELDS.map((f) => f.get(input)), input.readings);
}

/** The constants `ctrl_load` copies into every `calculate(data)`, in {@link CONTROLLER_CONSTANTS} order. */
export function controllerConstants(settings: Settings): number[] {
  return CONTROLLER_CONSTANTS.map((c) => c.get(settings));
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

/** Source of one section for `settings.plugin(type)`. */
export function sectionToLua(section: UciSectionOptions): string {
  return `return ${luaLiteral(section)}`;
}

/** A validated value, or a warning explaining why it was dropped. */
export interface Checked {
  /** The accepted value. */
  value?: number;
  /** Why the value was dropped. */
  warning?: string;
}

function describe(v: LuaResult): string {
  return valueText(v instanceof LuaOther ? { type: v.type } : v ?? null);
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
  if (!Number.isFinite(v)) return { warning: `${where}: ${field} is ${numberText(v)}; ignored` };
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
