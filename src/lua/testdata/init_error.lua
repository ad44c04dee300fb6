local M = {}
function M.initialise(requires, settings)
  local x = nil
  return x.field
end
function M.process(r) return {} end
return M
