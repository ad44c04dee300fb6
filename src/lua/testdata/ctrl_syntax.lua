local M = {}
function M.calculate(data)
  return { next_dl_rate = data.cur_dl_rate +* 1 }
end
return M
