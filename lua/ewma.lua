-- sqm-autorate EWMA ratecontroller (upstream 0.6.1 rules, docs/algorithm.md §6) as a Lua script.
--
-- Use it with rate_controller = builtin:ewma. It decides exactly like the built-in TypeScript
-- controller (src/ratecontroller/ewma.ts): same rules in Lua's order (up-increase,
-- down-increase, up-decrease, down-decrease) and the same random draws from sqma.random(), so
-- the two give identical rates for identical inputs. The control loop clamps and floors the
-- result; this script only keeps the safe-rate rings and applies the rules.
--
-- State lives in the module table (M.state) so calculate(data) is a pure function of data and
-- that state.

local floor, max, min, huge = math.floor, math.max, math.min, math.huge
local random = sqma.random

local M = { name = "ewma (lua)", state = {} }

-- Fills the rings: per slot one download then one upload draw, (U * 0.2 + 0.75) * base.
function M.configure(settings)
  local size = max(1, floor(settings.histsize))
  local dl = { base = settings.base_dl_rate, safe = {}, nrate = 0 }
  local ul = { base = settings.base_ul_rate, safe = {}, nrate = 0 }
  for i = 1, size do
    dl.safe[i] = (random() * 0.2 + 0.75) * settings.base_dl_rate
    ul.safe[i] = (random() * 0.2 + 0.75) * settings.base_ul_rate
  end
  M.state = { size = size, high_load = settings.high_load_level, dl = dl, ul = ul }
end

local function increase(s, d, cur, load)
  -- nrate is 0-based like upstream's ring; Lua arrays are 1-based.
  d.safe[d.nrate + 1] = floor(cur * load)
  local max_safe = -huge
  local safe = d.safe
  for i = 1, s.size do
    if safe[i] > max_safe then max_safe = safe[i] end
  end
  local next_rate = cur * (1 + 0.1 * max(0, 1 - cur / max_safe)) + d.base * 0.03
  d.nrate = (d.nrate + 1) % s.size
  return next_rate
end

-- A random safe rate caps the cut; every slot can be drawn (upstream's Lua skips the last one).
local function decrease(s, d, cur, load)
  local index = min(s.size - 1, floor(random() * s.size))
  return min(0.9 * cur * load, d.safe[index + 1])
end

function M.calculate(data)
  local s = M.state
  local next_ul, next_dl = data.cur_ul_rate, data.cur_dl_rate
  local up, down = data.up_del_stat, data.down_del_stat
  if up < data.ul_max_delta_owd and data.tx_load > s.high_load then
    next_ul = increase(s, s.ul, data.cur_ul_rate, data.tx_load)
  end
  if down < data.dl_max_delta_owd and data.rx_load > s.high_load then
    next_dl = increase(s, s.dl, data.cur_dl_rate, data.rx_load)
  end
  if up > data.ul_max_delta_owd then
    next_ul = decrease(s, s.ul, data.cur_ul_rate, data.tx_load)
  end
  if down > data.dl_max_delta_owd then
    next_dl = decrease(s, s.dl, data.cur_dl_rate, data.rx_load)
  end
  return { next_dl_rate = next_dl, next_ul_rate = next_ul }
end

-- The rings for the speed-history dump (slot order).
function M.speed_history()
  return { up = M.state.ul.safe, down = M.state.dl.safe }
end

return M
