local M = {}
function M.configure(settings)
  error("cannot configure for base " .. settings.base_dl_rate)
end
function M.calculate(data) return {} end
return M
