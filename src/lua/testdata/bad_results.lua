-- Returns a different kind of wrong value depending on readings.now_s.
local M = { name = "bad_results" }
local nan = 0 / 0
function M.process(r)
  local k = r.now_s
  if k == 1 then return { next_ul_rate = "fast", next_dl_rate = 7000 } end
  if k == 2 then return { next_ul_rate = nan, dl_max_delta_owd = 1 / 0 } end
  if k == 3 then return { next_dl_rate = -5, ul_max_delta_owd = 0, dl_max_delta_owd = 22 } end
  if k == 4 then return "not a table" end
  if k == 5 then return { next_dl_rate = {} } end
  return {}
end
return M
