-- An upstream-style plugin (pretty_speeds / log_readings shape): no name, initialise returns the
-- module, options come from settings.plugin(), logging through requires.util.
local pretty = {}
local util, multiple

function pretty.initialise(requires, settings)
  util = requires.util
  local opts = settings.plugin("pretty_speeds")
  multiple = 1000
  if opts then
    for k, v in pairs(opts) do
      if k:sub(1, 1) ~= "." and k == "multiple" then multiple = util.to_integer(v) end
    end
  end
  util.logger(util.loglevel.INFO, "pretty_speeds: rounding to " .. multiple ..
    " (" .. tostring(opts and opts[".type"]) .. ", base " .. settings.base_dl_rate ..
    ", level " .. settings.log_level.name .. ")")
  return pretty
end

function pretty.process(readings)
  return {
    next_ul_rate = requires_ceil(readings.next_ul_rate),
    next_dl_rate = requires_ceil(readings.next_dl_rate),
  }
end

function requires_ceil(v)
  return math.ceil(v / multiple) * multiple
end

return pretty
