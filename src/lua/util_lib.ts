/**
 * Upstream's utility module (`requires.util`, docs/plugins.md, `requires`) written in Lua for the sandbox.
 * Logging goes to the daemon's logger (src/log/logger.ts) through `sqma.log`; time comes from the injected
 * clock; nothing sleeps. The chunk receives the initial log level name and returns the module.
 */
export const UTIL_LUA = `
local initial_level = ...
local log, wall_ms = sqma.log, sqma.wall_ms
local floor, huge = math.floor, math.huge
local pairs, type, tostring, tonumber, error = pairs, type, tostring, tonumber, error

local M = {}
M.loglevel = {
  TRACE = { level = 6, name = "TRACE" },
  DEBUG = { level = 5, name = "DEBUG" },
  INFO = { level = 4, name = "INFO" },
  WARN = { level = 3, name = "WARN" },
  ERROR = { level = 2, name = "ERROR" },
  FATAL = { level = 1, name = "FATAL" },
}
local current = M.loglevel[initial_level] or M.loglevel.INFO

function M.logger(level, message)
  if type(level) ~= "table" or level.level == nil then level = M.loglevel.INFO end
  if level.level <= current.level then log(level.name, tostring(message)) end
end
function M.set_loglevel(name) current = M.loglevel[name] end
function M.get_loglevel() return current end
function M.get_loglevel_name() return current.name end
function M.get_loglevel_level() return current.level end
-- Scripts cannot load modules in the sandbox, so nothing is ever available.
function M.is_module_available(_) return false end
function M.get_current_time()
  local ms = wall_ms()
  return ms // 1000, floor((ms % 1000) * 1000000)
end
function M.a_else_b(a, b)
  if a then return a end
  return b
end
local warned_sleep = false
function M.nsleep(_, _)
  if not warned_sleep then
    warned_sleep = true
    log("WARN", "util.nsleep is a no-op in sqm-autorate: scripts must not block the control loop")
  end
end
function M.get_time_after_midnight_ms()
  local s, ns = M.get_current_time()
  return (s % 86400) * 1000 + ns // 1000000
end
local function dump(o, depth)
  if type(o) ~= "table" then return tostring(o) end
  if depth > 20 then return "{ ... }" end
  local s = "{ "
  for k, v in pairs(o) do
    if type(k) ~= "number" then k = '"' .. tostring(k) .. '"' end
    s = s .. "[" .. k .. "] = " .. dump(v, depth + 1) .. ","
  end
  return s .. "} "
end
function M.get_table_dump(t) return dump(t, 0) end
function M.get_table_len(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end
function M.get_table_position(t, item)
  for i, v in ipairs(t) do
    if v == item then return i end
  end
  return 0
end
function M.shuffle_table(t)
  for i = #t, 2, -1 do
    local j = math.random(i)
    t[i], t[j] = t[j], t[i]
  end
  return t
end
function M.maximum(t)
  local m = -huge
  for _, v in pairs(t) do
    if v > m then m = v end
  end
  return m
end
function M.rtt_compare(a, b) return a[2] < b[2] end
function M.to_num(v)
  if v == nil then return nil end
  if type(v) == "number" then return v end
  return tonumber(v, 10)
end
function M.to_integer(v)
  local n = tonumber(v)
  if n == nil then error("to_integer: not a number: " .. tostring(v), 2) end
  return floor(n)
end
return M
`;
