-- wrk script: TF Serving predict over keep-alive, each request the next body of $BODIES (a file
-- of request bodies, one JSON document per line), round and round; every wrk thread walks the
-- same sequence from its start, so two servers measured in turn get the same requests.
--   BODIES=bodies.jsonl wrk -t2 -c16 -d5s -s bench/serving/predict_bodies.lua http://127.0.0.1:PORT/v1/models/eta:predict
local bodies = {}
local path = os.getenv("BODIES")
assert(path, "set BODIES to a file of request bodies")
for line in io.lines(path) do
  if #line > 0 then bodies[#bodies + 1] = line end
end
assert(#bodies > 0, "BODIES holds no request body")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local next_body = 0
function request()
  next_body = next_body % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[next_body])
end

function done(summary, latency, requests)
  io.write(string.format("non-2xx/3xx: %d, socket errors: %d\n", summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  io.write(string.format("latency p50 %.0f us, p90 %.0f us, p99 %.0f us, p99.9 %.0f us\n",
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9)))
end
