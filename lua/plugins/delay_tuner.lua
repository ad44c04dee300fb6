-- delay_tuner: sets the delay thresholds (ul/dl_max_delta_owd) from the delays seen while the
-- link is nearly idle, so the threshold sits just above the line's own jitter instead of a
-- guessed 15 ms. A simpler relative of upstream's delay-histogram plugin.
--
-- Every tick with load <= low_load_threshold, the direction's delay statistic goes into a
-- histogram of bucket_ms wide buckets (values above max_ms land in the last bucket). Every
-- recalculation_seconds, a direction with at least sufficient_samples samples gets
--   threshold = (upper edge of the bucket where the cumulative count reaches cumulative_cutoff)
--               + margin_ms, limited to [min_threshold_ms, max_threshold_ms]
-- and then all counts are halved, so old conditions fade out. Thresholds persist in memory
-- (never written to disk), as with any plugin.
--
-- UCI section "delay_tuner" (all optional, defaults shown):
--   option low_load_threshold '0.2'   option bucket_ms '0.5'       option max_ms '100'
--   option recalculation_seconds '300' option sufficient_samples '600'
--   option cumulative_cutoff '0.999'  option margin_ms '2'
--   option min_threshold_ms '4'       option max_threshold_ms '60'

local M = { name = "delay_tuner" }

local floor, min, max = math.floor, math.min, math.max
local util
local cfg = {}
local hist = {}
local last_calc

local DEFAULTS = {
  low_load_threshold = 0.2,
  bucket_ms = 0.5,
  max_ms = 100,
  recalculation_seconds = 300,
  sufficient_samples = 600,
  cumulative_cutoff = 0.999,
  margin_ms = 2,
  min_threshold_ms = 4,
  max_threshold_ms = 60,
}

local function new_histogram()
  local h = { total = 0, counts = {} }
  for i = 1, cfg.buckets do h.counts[i] = 0 end
  return h
end

function M.initialise(requires, settings)
  util = requires.util
  local opts = settings.plugin("delay_tuner") or {}
  for k, v in pairs(DEFAULTS) do
    local n = tonumber(opts[k])
    cfg[k] = n ~= nil and n or v
  end
  cfg.bucket_ms = max(cfg.bucket_ms, 0.01)
  cfg.buckets = max(1, floor(cfg.max_ms / cfg.bucket_ms + 0.5))
  hist.up = new_histogram()
  hist.down = new_histogram()
  return M
end

local function add(h, delay)
  if type(delay) ~= "number" or delay ~= delay then return end
  local i = floor(max(delay, 0) / cfg.bucket_ms) + 1
  if i > cfg.buckets then i = cfg.buckets end
  h.counts[i] = h.counts[i] + 1
  h.total = h.total + 1
end

-- Nil until enough samples; then the tuned threshold.
local function threshold(h)
  if h.total < cfg.sufficient_samples then return nil end
  local need = cfg.cumulative_cutoff * h.total
  local sum = 0
  for i = 1, cfg.buckets do
    sum = sum + h.counts[i]
    if sum >= need then
      local t = i * cfg.bucket_ms + cfg.margin_ms
      return min(cfg.max_threshold_ms, max(cfg.min_threshold_ms, t))
    end
  end
  return nil
end

local function age(h)
  local total = 0
  for i = 1, cfg.buckets do
    h.counts[i] = h.counts[i] // 2
    total = total + h.counts[i]
  end
  h.total = total
end

function M.process(r)
  if r.tx_load <= cfg.low_load_threshold then add(hist.up, r.up_del_stat) end
  if r.rx_load <= cfg.low_load_threshold then add(hist.down, r.down_del_stat) end
  last_calc = last_calc or r.now_s
  if r.now_s - last_calc < cfg.recalculation_seconds then return {} end
  last_calc = r.now_s
  local results = {}
  local up, down = threshold(hist.up), threshold(hist.down)
  if up then
    results.ul_max_delta_owd = up
    age(hist.up)
  end
  if down then
    results.dl_max_delta_owd = down
    age(hist.down)
  end
  return results
end

-- For tests and curious users: the histograms.
function M.histograms() return hist end

return M
