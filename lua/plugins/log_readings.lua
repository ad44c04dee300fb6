-- log_readings: logs the readings of a tick when a condition holds (upstream's log_readings).
--
-- UCI section "log_readings" (all optional):
--   option interval_seconds '60'     log every N seconds of readings.now_s (default: never)
--   option log_level 'INFO'          level of the lines (TRACE DEBUG INFO WARN ERROR FATAL)
--   option <reading>_<op> '<number>' log when the reading compares true; op is one of
--                                    ge gt le lt eq ne; several conditions are OR-combined,
--                                    e.g. option down_del_stat_gt '30'
-- Each logged line lists every reading sorted by name, then the additions (second argument
-- of process) sorted by name, with the delta arrays last.
-- Returns no results: it never changes rates or thresholds.

local M = { name = "log_readings" }

local OPS = {
  ge = function(a, b) return a >= b end,
  gt = function(a, b) return a > b end,
  le = function(a, b) return a <= b end,
  lt = function(a, b) return a < b end,
  eq = function(a, b) return a == b end,
  ne = function(a, b) return a ~= b end,
}

local util
local interval
local level
local triggers = {}
local last_logged

function M.initialise(requires, settings)
  util = requires.util
  local opts = settings.plugin("log_readings") or {}
  interval = tonumber(opts.interval_seconds)
  level = util.loglevel[string.upper(opts.log_level or "INFO")] or util.loglevel.INFO
  for key, value in pairs(opts) do
    if key:sub(1, 1) ~= "." then
      local reading, op = key:match("^(.+)_(%a%a)$")
      if reading and OPS[op] then
        local n = tonumber(value)
        if n then
          triggers[#triggers + 1] = { reading = reading, op = op, value = n }
        else
          util.logger(util.loglevel.WARN,
            "log_readings: option " .. key .. " needs a number, got '" .. tostring(value) .. "'")
        end
      end
    end
  end
  return M
end

local function list(t)
  local parts = {}
  for i = 1, #t do parts[i] = string.format("%.3f", t[i]) end
  return "{" .. table.concat(parts, ",") .. "}"
end

local function numbers(t, parts)
  local keys = {}
  for k, v in pairs(t) do
    if type(v) == "number" then keys[#keys + 1] = k end
  end
  table.sort(keys)
  for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. string.format("%.6g", t[k]) end
end

local function render(readings, extra)
  local parts = {}
  numbers(readings, parts)
  if type(extra) == "table" then
    numbers(extra, parts)
    if type(extra.ul_deltas) == "table" then parts[#parts + 1] = "ul_deltas=" .. list(extra.ul_deltas) end
    if type(extra.dl_deltas) == "table" then parts[#parts + 1] = "dl_deltas=" .. list(extra.dl_deltas) end
  end
  return table.concat(parts, " ")
end

function M.process(readings, extra)
  local fire = nil
  if interval and interval > 0 and (last_logged == nil or readings.now_s - last_logged >= interval) then
    fire = "interval"
    last_logged = readings.now_s
  end
  if not fire then
    for _, t in ipairs(triggers) do
      local v = readings[t.reading]
      if v == nil and type(extra) == "table" then v = extra[t.reading] end
      if type(v) == "number" and OPS[t.op](v, t.value) then
        fire = t.reading .. "_" .. t.op .. " " .. t.value
        break
      end
    end
  end
  if fire then util.logger(level, "readings (" .. fire .. "): " .. render(readings, extra)) end
  return {}
end

return M
