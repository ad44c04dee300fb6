-- Checks the readings table: every upstream key, the additions, 1-based sorted arrays.
local M = { name = "echo" }
local KEYS = { "now_s", "tx_load", "rx_load", "up_del_stat", "down_del_stat", "up_utilisation",
  "down_utilisation", "cur_ul_rate", "cur_dl_rate", "next_ul_rate", "next_dl_rate", "dt",
  "ul_bytes", "dl_bytes", "ul_max_delta_owd", "dl_max_delta_owd" }
function M.process(r)
  for _, k in ipairs(KEYS) do
    if type(r[k]) ~= "number" then error("missing " .. k) end
  end
  if #r.dl_deltas ~= 5 or r.dl_deltas[1] ~= 0.4 or r.dl_deltas[5] ~= 9.8 then error("dl_deltas") end
  if #r.ul_deltas ~= 5 or r.ul_deltas[3] ~= 1.5 then error("ul_deltas") end
  if math.type(r.now_s) ~= "integer" then error("now_s should be an integer") end
  -- Report a few values back through the thresholds (ms > 0 only).
  return { ul_max_delta_owd = r.now_s + r.up_del_stat, dl_max_delta_owd = r.cur_dl_rate / 1000 }
end
return M
