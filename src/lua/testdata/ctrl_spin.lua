-- A ratecontroller that counts its calls (its state) and, at now_s 5, spins inside one C
-- function (a pattern match, see spin.lua) that the instruction hook cannot stop.
local M = { name = "ctrl_spin" }
local calls = 0
function M.calculate(d)
  calls = calls + 1
  if d.now_s == 5 then ("a"):rep(400):find(".-.-.-b") end
  return { next_dl_rate = 50000 + calls, next_ul_rate = 10000 }
end
return M
