-- Fails whenever readings.now_s is odd; every 7th call it loops forever or allocates forever.
local M = { name = "flaky" }
function M.process(r)
  if r.now_s == 7 then while true do end end
  if r.now_s == 9 then local t = {} for i = 1, 1e9 do t[i] = string.rep("y", 65536) .. i end end
  if r.now_s % 2 == 1 then error("odd tick " .. r.now_s) end
  return { next_ul_rate = 5000 }
end
return M
