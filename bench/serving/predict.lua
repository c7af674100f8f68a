-- wrk script: batch-1 TF Serving predict over keep-alive.
--   wrk -t1 -c16 -d5s -s bench/serving/predict.lua http://127.0.0.1:PORT/v1/models/eta:predict
wrk.method = "POST"
wrk.body = '{"instances": [[1.0, 2.0, 3.0]]}'
wrk.headers["Content-Type"] = "application/json"

function done(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format("non-2xx/3xx: %d, socket errors: %d\n", non2xx,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
