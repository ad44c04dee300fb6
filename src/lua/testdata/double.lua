-- Doubles the download proposal and halves the upload threshold; initialise returns nil.
local M = { name = "double" }
function M.initialise(requires, settings) end
function M.process(r, extra)
  return { next_dl_rate = r.next_dl_rate * 2, ul_max_delta_owd = extra.ul_max_delta_owd / 2 }
end
return M
