local M = {}
function M.process(r)
  return { next_ul_rate = = 1 }
end
return M
