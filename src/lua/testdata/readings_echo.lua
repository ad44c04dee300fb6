-- Checks the readings: upstream's keys (numbers only) in the first argument, the additions and
-- 1-based sorted arrays in the second.
local M = { name = "echo" }
local KEYS = { "now_s", "tx_load", "rx_load", "up_del_stat", "down_del_stat", "up_utilisation",
  "down_utilisation", "cur_ul_rate", "cur_dl_rate", "next_ul_rate", "next_dl_rate" }
local EXTRA = { "dt", "ul_bytes", "dl_bytes", "ul_max_delta_owd", "dl_max_delta_owd" }
function M.process(r, x)
  for _, k in ipairs(KEYS) do
    if type(r[k]) ~= "number" then error("missing " .. k) end
  end
  for k, v in pairs(r) do
    if type(v) ~= "number" then error("readings." .. k .. " is a " .. type(v)) end
  end
  for _, k in ipairs(EXTRA) do
    if type(x[k]) ~= "number" then error("missing extra." .. k) end
  end
  if #x.dl_deltas ~= 5 or x.dl_deltas[1] ~= 0.4 or x.dl_deltas[5] ~= 9.8 then error("dl_deltas") end
  if #x.ul_deltas ~= 5 or x.ul_deltas[3] ~= 1.5 then error("ul_deltas") end
  -- Report a few values back through the thresholds (ms > 0 only).
  return { ul_max_delta_owd = r.now_s + r.up_del_stat, dl_max_delta_owd = r.cur_dl_rate / 1000 }
end
return M
