/**
 * The Lua 5.1 compatibility layer (docs/plugins.md, "Lua 5.1 compatibility"). Upstream's plugins
 * target OpenWrt's Lua 5.1; the engine is Lua 5.4. This chunk runs in every engine before any
 * script and puts back what upstream-style scripts rely on: `tonumber(s, 10)` on decimals,
 * `unpack`, `loadstring`, `math.pow` and friends, `table.getn`/`maxn`, LuaJIT's `bit` and 5.2's
 * `bit32`, `string.format("%d", 2.5)` truncating instead of raising, and function environments
 * (`setfenv`, `getfenv`, `module`, `package.seeall`) on the few debug functions the sandbox hands
 * it as the chunk's argument. Differences it does not cover are listed in the docs.
 */
export const COMPAT_LUA = `
local fenv_debug = ...
local type, tonumber_raw, select, error, floor = type, tonumber, select, error, math.floor
local fmt_raw, pairs = string.format, pairs
local getinfo, getupvalue, upvaluejoin = fenv_debug.getinfo, fenv_debug.getupvalue,
  fenv_debug.upvaluejoin
local G, loaded, setmetatable, getmetatable = _G, package.loaded, setmetatable, getmetatable

-- 5.1's function environments. In 5.4 a function's globals are its _ENV upvalue: getfenv reads
-- it, setfenv gives the function an _ENV of its own holding the table (5.1's environments were
-- per function; closures made later inherit it, as in 5.1). Level 1 is the caller, 0 the globals.
local function fenv_target(f, name)
  if f == nil then f = 1 end
  if type(f) == "number" then
    if f < 0 then error("bad argument #1 to '" .. name .. "' (level must be non-negative)", 3) end
    if f == 0 then return nil end
    local info = getinfo(f + 2, "f")
    if info == nil then error("bad argument #1 to '" .. name .. "' (invalid level)", 3) end
    return info.func
  end
  if type(f) ~= "function" then
    error("bad argument #1 to '" .. name .. "' (number expected, got " .. type(f) .. ")", 3)
  end
  return f
end
local function env_upvalue(f)
  local i = 1
  while true do
    local n = getupvalue(f, i)
    if n == nil then return nil end
    if n == "_ENV" then return i end
    i = i + 1
  end
end
getfenv = function(f)
  local fn = fenv_target(f, "getfenv")
  local i = fn and env_upvalue(fn)
  if i == nil then return G end
  local _, env = getupvalue(fn, i)
  return env
end
local function set_env(fn, t)
  local i = env_upvalue(fn)
  if i == nil then
    if getinfo(fn, "S").what == "C" then
      error("'setfenv' cannot change environment of given object", 3)
    end
    return fn -- uses no globals: nothing to change
  end
  local function holder() return t end
  upvaluejoin(fn, i, holder, 1)
  return fn
end
setfenv = function(f, t)
  if type(t) ~= "table" then
    error("bad argument #2 to 'setfenv' (table expected, got " .. type(t) .. ")", 2)
  end
  local fn = fenv_target(f, "setfenv")
  if fn == nil then
    error("setfenv(0, t) is not supported here (Lua 5.4 has no thread environment)", 2)
  end
  return set_env(fn, t)
end

-- 5.1's module(name, ...): the module table (package.loaded[name], also the global of that name)
-- becomes the calling chunk's environment, so its global functions are the module's fields.
module = function(name, ...)
  if type(name) ~= "string" then
    error("bad argument #1 to 'module' (string expected, got " .. type(name) .. ")", 2)
  end
  local m = loaded[name]
  if type(m) ~= "table" then
    m = G
    for part in name:gmatch("[^.]+") do
      local nxt = m[part]
      if nxt == nil then nxt = {}; m[part] = nxt end
      if type(nxt) ~= "table" then error("name conflict for module '" .. name .. "'", 2) end
      m = nxt
    end
    loaded[name] = m
  end
  if m._NAME == nil then
    m._M, m._NAME, m._PACKAGE = m, name, name:match("^(.*%.)[^.]*$") or ""
  end
  local info = getinfo(2, "f")
  if info == nil or getinfo(2, "S").what == "C" then
    error("'module' not called from a Lua function", 2)
  end
  set_env(info.func, m)
  for k = 1, select("#", ...) do (select(k, ...))(m) end
end
package.seeall = function(m)
  local mt = getmetatable(m)
  if mt == nil then mt = {}; setmetatable(m, mt) end
  mt.__index = G
end

-- 5.1: base 10 is the same as no base (decimals and exponents accepted, numbers pass, nil gives
-- nil); 5.4 accepts integers only and raises on a non-string.
tonumber = function(v, base)
  if base == nil or base == 10 then
    if select("#", v) == 0 then error("bad argument #1 to 'tonumber' (value expected)", 2) end
    return tonumber_raw(v)
  end
  return tonumber_raw(v, base)
end

unpack = table.unpack
loadstring = function(s, name) return load(s, name, "t") end
-- 5.1 has one number type and prints 2^10 as 1024: keep exact integer powers integers.
math.pow = function(x, y)
  local r = x ^ y
  if math.type(x) == "integer" and math.type(y) == "integer" and y >= 0 and r == floor(r) and
      r > -2^53 and r < 2^53 then
    return floor(r)
  end
  return r
end
math.mod = math.fmod
math.log10 = function(x) return math.log(x, 10) end
math.ldexp = function(m, e) return m * 2.0 ^ e end
math.frexp = function(x)
  if x == 0 or x ~= x or x == math.huge or x == -math.huge then return x, 0 end
  local e = floor(math.log(math.abs(x), 2)) + 1
  local m = x / 2.0 ^ e
  if math.abs(m) >= 1 then m, e = m / 2, e + 1 elseif math.abs(m) < 0.5 then m, e = m * 2, e - 1 end
  return m, e
end
string.gfind = string.gmatch
table.getn = function(t) return #t end
table.maxn = function(t)
  local n = 0
  for k in pairs(t) do
    if type(k) == "number" and k > n then n = k end
  end
  return n
end
gcinfo = function() return floor(collectgarbage("count")) end

-- %d %i %o %u %x %X %c of a non-integral number: 5.1 truncates toward zero, 5.4 raises.
local int_conv = { d = true, i = true, o = true, u = true, x = true, X = true, c = true }
string.format = function(f, ...)
  local n = select("#", ...)
  if type(f) ~= "string" or n == 0 then return fmt_raw(f, ...) end
  local args = { ... }
  local i = 0
  local changed = false
  for spec in f:gmatch("%%[-+ #0]*%d*%.?%d*(%a)") do
    i = i + 1
    local v = args[i]
    if int_conv[spec] and type(v) == "number" and v == v and v ~= floor(v) and
        v > -2^63 and v < 2^63 then
      args[i] = v < 0 and -floor(-v) or floor(v)
      changed = true
    end
  end
  if not changed then return fmt_raw(f, ...) end
  return fmt_raw(f, table.unpack(args, 1, n))
end

-- 32-bit operations. bit32 (Lua 5.2) returns unsigned results; bit (LuaJIT) signed ones.
local M32 = 0x100000000
local function u32(x)
  x = tonumber_raw(x) or error("bit operation on a non-number", 3)
  return floor(x) % M32
end
local function s32(x)
  x = x % M32
  if x >= 0x80000000 then return x - M32 end
  return x
end
local function fold(op, init)
  return function(...)
    local r = init
    for k = 1, select("#", ...) do r = op(r, u32((select(k, ...)))) end
    return r
  end
end
local band = fold(function(a, b) return a & b end, 0xFFFFFFFF)
local bor = fold(function(a, b) return a | b end, 0)
local bxor = fold(function(a, b) return a ~ b end, 0)
local function bnot(x) return (~u32(x)) & 0xFFFFFFFF end
local function lshift(x, n)
  n = floor(n)
  if n < 0 then return (u32(x) >> -n) end
  if n >= 32 then return 0 end
  return (u32(x) << n) & 0xFFFFFFFF
end
local function rshift(x, n)
  n = floor(n)
  if n < 0 then return lshift(x, -n) end
  if n >= 32 then return 0 end
  return u32(x) >> n
end
local function arshift(x, n)
  local v = s32(u32(x))
  n = floor(n)
  if n < 0 then return lshift(x, -n) end
  if n >= 32 then n = 31 end
  return floor(v / 2 ^ n) % M32
end
local function lrotate(x, n)
  n = floor(n) % 32
  x = u32(x)
  return ((x << n) | (x >> (32 - n))) & 0xFFFFFFFF
end
local function rrotate(x, n) return lrotate(x, -floor(n)) end
local function extract(x, f, w)
  w = w or 1
  return (u32(x) >> f) & ((1 << w) - 1)
end
local function replace(x, v, f, w)
  w = w or 1
  local mask = ((1 << w) - 1) << f
  return (u32(x) & ~mask | ((u32(v) << f) & mask)) & 0xFFFFFFFF
end

bit32 = {
  band = band, bor = bor, bxor = bxor, bnot = bnot,
  btest = function(...) return band(...) ~= 0 end,
  lshift = lshift, rshift = rshift, arshift = arshift,
  lrotate = lrotate, rrotate = rrotate, extract = extract, replace = replace,
}
local function signed(f) return function(...) return s32(f(...)) end end
bit = {
  tobit = function(x) return s32(u32(x)) end,
  tohex = function(x, n)
    n = n or 8
    local up = n < 0
    if up then n = -n end
    local s = fmt_raw(up and "%08X" or "%08x", u32(x))
    return s:sub(-n)
  end,
  band = signed(band), bor = signed(bor), bxor = signed(bxor), bnot = signed(bnot),
  lshift = signed(lshift), rshift = signed(rshift), arshift = signed(arshift),
  rol = signed(lrotate), ror = signed(rrotate),
  bswap = function(x)
    x = u32(x)
    return s32(((x & 0xFF) << 24) | ((x & 0xFF00) << 8) | ((x >> 8) & 0xFF00) | (x >> 24))
  end,
}
package.loaded.bit, package.loaded.bit32 = bit, bit32
`;
