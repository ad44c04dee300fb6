-- Written to the Rust port's Lua algorithm interface: init(config) once, calculate(ctx) with its
-- names, results as dl_rate / ul_rate / trigger_reselect. Echoes what it was given.
local M = {}
local cfg

function M.init(config)
  cfg = config
end

function M.calculate(ctx)
  return {
    -- download: the configured delay threshold plus the rate in force and the 3rd delta
    dl_rate = ctx.current_dl_rate + cfg.download_delay_ms + ctx.dl_deltas[3],
    -- upload: the measured throughput plus the history size, the base rate and the interval
    ul_rate = ctx.ul_utilisation + cfg.speed_hist_size + cfg.base_ul_rate + ctx.elapsed_secs,
    trigger_reselect = ctx.dl_utilisation == 30000 and ctx.current_ul_rate == 12000,
  }
end

return M
