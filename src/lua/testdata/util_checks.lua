-- Checks requires.util against upstream semantics inside initialise; any mismatch fails the load.
local M = { name = "util_checks" }
local function eq(a, b, what)
  if a ~= b then error(what .. ": expected " .. tostring(b) .. ", got " .. tostring(a), 2) end
end
function M.initialise(requires, settings)
  local u = requires.util
  eq(requires.math, math, "requires.math")
  eq(u.loglevel.TRACE.level, 6, "TRACE level")
  eq(u.loglevel.FATAL.level, 1, "FATAL level")
  eq(u.get_loglevel_name(), "DEBUG", "initial level from settings")
  eq(settings.log_level.name, "DEBUG", "settings.log_level table")
  u.logger(u.loglevel.DEBUG, "visible debug")
  u.set_loglevel("ERROR")
  eq(u.get_loglevel_level(), 2, "set_loglevel")
  u.logger(u.loglevel.INFO, "hidden info")
  u.logger(u.loglevel.ERROR, "visible error")
  local s, ns = u.get_current_time()
  eq(s, 1700000000, "seconds")
  eq(ns, 250000000, "nanoseconds")
  eq(u.get_time_after_midnight_ms(), (1700000000 % 86400) * 1000 + 250, "after midnight")
  eq(u.a_else_b(false, 2), 2, "a_else_b")
  eq(u.a_else_b(1, 2), 1, "a_else_b truthy")
  eq(u.get_table_len({ 1, 2, x = 3 }), 3, "get_table_len")
  eq(u.get_table_position({ "a", "b" }, "b"), 2, "get_table_position")
  eq(u.get_table_position({ "a" }, "z"), 0, "get_table_position absent")
  eq(u.maximum({ 3, 9, 4 }), 9, "maximum")
  eq(u.maximum({}), -math.huge, "maximum empty")
  eq(u.rtt_compare({ "a", 1 }, { "b", 2 }), true, "rtt_compare")
  eq(u.to_num("12"), 12, "to_num")
  eq(u.to_num("12.5"), 12.5, "to_num is tonumber(v, 10): decimals too, as in Lua 5.1")
  eq(u.to_num(nil), nil, "to_num nil")
  eq(u.to_integer("7.9"), 7, "to_integer")
  eq(pcall(u.to_integer, "x"), false, "to_integer raises")
  eq(u.is_module_available("lanes"), false, "is_module_available")
  local t = u.shuffle_table({ 1, 2, 3, 4, 5 })
  eq(#t, 5, "shuffle keeps items")
  eq(u.get_table_dump({ 1 }), "{ [1] = 1,} ", "get_table_dump")
  u.nsleep(1, 0)
  u.nsleep(1, 0)
  eq(settings.plugin("anything") ~= nil, true, "plugin() without UCI is a table")
  return M
end
function M.process(r) return {} end
return M
