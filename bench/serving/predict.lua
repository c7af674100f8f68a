-- wrk script: TF Serving predict over keep-alive with the body in $BODY (a file path).
--   BODY=body.json wrk -t1 -c16 -d5s -s bench/serving/predict.lua http://127.0.0.1:PORT/v1/models/eta:predict
-- With BODIES set (a file of request bodies, one JSON document per line), each request is the
-- next of them instead, round and round; every wrk thread walks the same sequence from its
-- start, so two servers measured in turn get the same requests.
-- With DELAY_MS set, each connection waits that long between requests (open pacing: the rate is
-- about connections × 1000 / (DELAY_MS + latency)), for latency at a chosen load.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local bodies_path = os.getenv("BODIES") or ""
if bodies_path ~= "" then
  local bodies = {}
  for line in io.lines(bodies_path) do
    if #line > 0 then bodies[#bodies + 1] = line end
  end
  assert(#bodies > 0, "BODIES holds no request body")
  local next_body = 0
  function request()
    next_body = next_body % #bodies + 1
    return wrk.format(nil, nil, nil, bodies[next_body])
  end
else
  local f = assert(io.open(os.getenv("BODY") or "", "r"), "set BODY to a request body file")
  wrk.body = f:read("*a")
  f:close()
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
