-- wrk script: batch-1 pricing quotes (POST /v1/models/pricing:predict) over keep-alive.
-- MODE=hot (default): one zone, one 5-minute bucket: after the first request the zone's
--   multiplier for the bucket is read from the online store (the common case: many quotes per
--   zone and interval).
-- MODE=cold: every request a new (zone, bucket) of 40 zones, the time moving on 5 minutes every
--   40 requests: every request runs the engine on the live state (the worst case).
-- With DELAY_MS set, each connection waits that long between requests (as predict.lua).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local mode = os.getenv("MODE") or "hot"
local counter = 0
local thread_id = 0
local start = os.time({year = 2024, month = 3, day = 11, hour = 0, min = 0, sec = 0})

function setup(thread)
  thread:set("thread_id", thread_id)
  thread_id = thread_id + 1
end

function request()
  local zone, t = 5, "2024-03-14 21:07:00"
  if mode == "cold" then
    counter = counter + 1
    zone = counter % 40 + 1
    -- threads take disjoint days so they never share a bucket
    local minutes = math.floor(counter / 40) * 5 + thread_id * 24 * 60 * 30
    t = os.date("%Y-%m-%d %H:%M:%S", start + minutes * 60)
  end
  return wrk.format(nil, nil, nil, string.format(
    '{"instances": [{"zone": %d, "time": "%s", "estimated_distance": 3.1, "estimated_minutes": 14.5}]}',
    zone, t))
end

local delay_ms = tonumber(os.getenv("DELAY_MS") or "")
if delay_ms then
  function delay() return delay_ms end
end

function done(summary, latency, requests)
  io.write(string.format("non-2xx/3xx: %d, socket errors: %d\n", summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  io.write(string.format("latency p50 %.0f us, p90 %.0f us, p99 %.0f us, p99.9 %.0f us\n",
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9)))
end
