-- wrk script: TF Serving predict over keep-alive with the body in $BODY (a file path).
--   BODY=body.json wrk -t1 -c16 -d5s -s bench/serving/predict.lua http://127.0.0.1:PORT/v1/models/eta:predict
-- With DELAY_MS set, each connection waits that long between requests (open pacing: the rate is
-- about connections × 1000 / (DELAY_MS + latency)), for latency at a chosen load.
local f = assert(io.open(os.getenv("BODY") or "", "r"), "set BODY to a request body file")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"

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
