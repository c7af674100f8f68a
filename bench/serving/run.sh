#!/usr/bin/env bash
# The serving benchmark, one run (see BENCHMARKS.md): batch-1 TF Serving predictions over
# keep-alive with wrk, our server vs nginx (fixed body, HTTP ceiling) vs FastAPI + uvicorn +
# PyTorch (TorchScript), then a lower-load latency run and a dynamic-batching run at -c64.
#   cmake --build build --target serving_bench_server && bench/serving/run.sh
set -u
cd "$(dirname "$0")/../.."
BIN=build/bench/serving/serving_bench_server
LUA=bench/serving/predict.lua
PATH_=/v1/models/eta:predict
WRK="wrk -t1 -d5s --latency -s $LUA"

section() { echo; echo "=== $*"; }

section "nginx-light fixed body (1 worker), wrk -t1 -c16 -d5s"
mkdir -p /tmp/bimride-nginx
nginx -p /tmp/bimride-nginx -c "$PWD/bench/peers/nginx.conf" & ngx=$!
sleep 0.5
$WRK -c16 "http://127.0.0.1:18080$PATH_"
kill "$ngx"; wait "$ngx" 2>/dev/null

section "bimride model server (1 I/O thread, batching off), wrk -t1 -c16 -d5s"
$BIN --port 18082 --io-threads 1 > /tmp/bimride-bench-ours.txt & ours=$!
sleep 0.5
$WRK -c16 "http://127.0.0.1:18082$PATH_"
section "bimride model server, lower load: wrk -t1 -c2 -d5s"
$WRK -c2 "http://127.0.0.1:18082$PATH_"
kill -TERM "$ours"; wait "$ours"
section "bimride server's own histograms (both runs above)"
cat /tmp/bimride-bench-ours.txt

section "FastAPI + uvicorn + PyTorch TorchScript, wrk -t1 -c16 -d5s"
/usr/bin/python3 bench/peers/fastapi_server.py --port 18081 & py=$!
for _ in $(seq 50); do curl -s -o /dev/null -XPOST -d '{"instances": [[1,2,3]]}' \
  "http://127.0.0.1:18081$PATH_" && break; sleep 0.2; done
curl -s -XPOST -d '{"instances": [[1.0, 2.0, 3.0]]}' "http://127.0.0.1:18081$PATH_"; echo
$WRK -c16 "http://127.0.0.1:18081$PATH_"
kill "$py"; wait "$py" 2>/dev/null

section "bimride model server, dynamic batching (max 32 rows, 200 us), wrk -t1 -c64 -d5s"
$BIN --port 18083 --io-threads 1 --max-batch-size 32 --max-queue-delay-us 200 \
  > /tmp/bimride-bench-batch.txt & batch=$!
sleep 0.5
$WRK -c64 "http://127.0.0.1:18083$PATH_"
kill -TERM "$batch"; wait "$batch"
cat /tmp/bimride-bench-batch.txt
