-- Written the way upstream's log_readings.lua and delay-histogram.lua (develop and lua-threads
-- branches) begin: the utility module is read as requires.utilities, not requires.util.
local M = {}
local logger, loglevel, level

function M.initialise(requires, settings)
  local utilities = requires.utilities
  logger = utilities.logger
  loglevel = utilities.loglevel
  level = loglevel["INFO"]
  local opts = settings.plugin("utilities_style")
  if opts and opts ~= {} then
    logger(loglevel.WARN, "utilities_style - settings: step=" .. tostring(opts.step))
  end
  return M
end

function M.process(readings)
  logger(level, "utilities_style: cur_dl_rate " .. tostring(readings.cur_dl_rate))
  return {}
end

return M
