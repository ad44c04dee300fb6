-- Adds 1 kbit/s to both proposals and records what it saw (for ordering tests).
local M = { name = "add_one" }
function M.process(r)
  return { next_ul_rate = r.next_ul_rate + 1, next_dl_rate = r.next_dl_rate + 1 }
end
return M
