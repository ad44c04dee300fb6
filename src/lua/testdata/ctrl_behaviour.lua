-- A ratecontroller whose behaviour depends on data.now_s, for the error-path tests.
local M = { name = "behaviour" }
local configured
function M.configure(settings) configured = settings.histsize end
function M.calculate(d)
  local k = d.now_s
  if k == 1 then error("tick one fails") end
  if k == 2 then while true do end end
  if k == 3 then return { next_dl_rate = 0 / 0, next_ul_rate = -1 } end
  if k == 4 then return { next_dl_rate = "x" } end
  if k == 5 then return 42 end
  if k == 6 then return { next_dl_rate = d.random * 1000, next_ul_rate = d.random * 1000, reselect = true } end
  if k == 7 then
    -- everything a controller needs is in data
    local keys = { "tx_load", "rx_load", "up_del_stat", "down_del_stat", "up_utilisation",
      "down_utilisation", "cur_ul_rate", "cur_dl_rate", "dt", "ul_bytes", "dl_bytes",
      "ul_max_delta_owd", "dl_max_delta_owd", "base_ul_rate", "base_dl_rate", "min_ul_rate",
      "min_dl_rate", "max_ul_rate", "max_dl_rate", "high_load_level", "histsize" }
    for _, key in ipairs(keys) do
      if type(d[key]) ~= "number" then error("missing " .. key) end
    end
    return { next_dl_rate = #d.dl_deltas + configured, next_ul_rate = d.ul_deltas[1] }
  end
  return { next_dl_rate = d.cur_dl_rate + 1, next_ul_rate = d.cur_ul_rate + 1 }
end
return M
