-- From now_s 5 on, every call spins inside one C function (a pattern match with backtracking
-- whose cost grows with the fourth power of the length): the instruction hook cannot stop it.
local M = { name = "spin" }
local length = 300
function M.initialise(requires, settings)
  local opts = settings.plugin("spin")
  if opts.length then length = tonumber(opts.length) end
  return M
end
function M.process(r)
  if r.now_s >= 5 then
    sqma.log("INFO", "spin: matching " .. length)
    local s = ("a"):rep(length)
    s:find(".-.-.-b")
  end
  return {}
end
return M
