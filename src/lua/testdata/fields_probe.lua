-- Logs every key of what it is given, generically (as upstream's log plugin iterates): plugin
-- readings and extra, or a controller's data. Numbers as %.17g, strings as is, tables by shape.
local M = { name = "fields_probe" }
local function dump(prefix, t)
  for k, v in pairs(t) do
    if type(v) == "number" then
      sqma.log("INFO", prefix .. k .. "=" .. string.format("%.17g", v) .. " " .. math.type(v))
    elseif type(v) == "table" then
      local parts = {}
      for i = 1, #v do
        local e = v[i]
        if type(e) == "table" then
          parts[i] = e.reflector .. "/" .. string.format("%.17g", e.ul_delta) .. "/" ..
            string.format("%.17g", e.dl_delta) .. "/" .. string.format("%.17g", e.age_s)
        else
          parts[i] = string.format("%.17g", e)
        end
      end
      sqma.log("INFO", prefix .. k .. "=[" .. table.concat(parts, ",") .. "]")
    else
      sqma.log("INFO", prefix .. k .. "=" .. type(v))
    end
  end
end
function M.process(readings, extra)
  dump("readings.", readings)
  dump("extra.", extra)
  return {}
end
function M.calculate(data)
  dump("data.", data)
  return { next_dl_rate = data.cur_dl_rate, next_ul_rate = data.cur_ul_rate }
end
return M
