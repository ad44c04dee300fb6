-- Reads every field (bench and leak test): sums the readings, the additions and both delta arrays.
local M = { name = "read_all" }
local KEYS = { "now_s", "tx_load", "rx_load", "up_del_stat", "down_del_stat", "up_utilisation",
  "down_utilisation", "cur_ul_rate", "cur_dl_rate", "next_ul_rate", "next_dl_rate" }
local EXTRA = { "dt", "ul_bytes", "dl_bytes", "ul_max_delta_owd", "dl_max_delta_owd" }
M.sum = 0
function M.process(r, x)
  local s = 0
  for i = 1, #KEYS do s = s + r[KEYS[i]] end
  for i = 1, #EXTRA do s = s + x[EXTRA[i]] end
  for i = 1, #x.ul_deltas do s = s + x.ul_deltas[i] end
  for i = 1, #x.dl_deltas do s = s + x.dl_deltas[i] end
  M.sum = s
  return {}
end
return M
