#!/usr/bin/env bash
# Served pricing latency (BENCHMARKS.md "Pricing endpoint"): batch-1 quotes through
# `bimride serve` (POST /v1/models/pricing:predict, the forecast policy reading its live state
# from the server's in-memory online store), measured as bench/serving/run.sh measures ETA
# serving: the maximum rate with wrk -t2 -c16 (median of 3 rounds of 5 s), then the latency at
# about half of it (wrk paced with delay(): 1 ms between requests on each connection, 10 s; how
# many requests/s one paced connection makes depends on the path and the machine — 500 to 850
# here — so a 3 s probe with max/1000 connections measures it, and the paced run uses as many
# connections as half the maximum needs at that rate). Both the hot path (a zone's multiplier of the
# current 5 minutes already set) and the cold path (every request runs the engine), and beside
# them, from the same server in the same rounds, the ETA path (the with-distance XGBoost model
# of results/eta.md under native_trees, raw fields, bench/serving/predict.lua): what the
# machine's tail is with no pricing in it. Paced runs alternate hot, cold, eta, ROUNDS times.
#
# PINNED=1: the server on core 0 with one I/O thread, wrk on core 1 with one thread (as with the
# load generator on another machine: wrk and the server no longer take turns on the same cores,
# which is where this 2-core machine's tail comes from).
#
#   bench/pricing/serving_latency.sh       (after building `bimride`; ROUNDS=3 by default)
set -euo pipefail
cd "$(dirname "$0")/../.."
B=$PWD/build/bimride
LUA=$PWD/bench/pricing/quote.lua
ETA_LUA=$PWD/bench/serving/predict.lua
G=${BIMRIDE_DATA_DIR:-$PWD/../shared/data}/tlc_green
ROUNDS=${ROUNDS:-3}
W=$(mktemp -d /tmp/pricing-bench.XXXX)
PORT=${PORT:-18093}
IO_THREADS=$(nproc); WRK_THREADS=2; SERVER_CPU=(); WRK_CPU=()
if [[ ${PINNED:-0} == 1 ]]; then
  IO_THREADS=1; WRK_THREADS=1; SERVER_CPU=(taskset -c 0); WRK_CPU=(taskset -c 1)
  echo "pinned: server on core 0 (--io-threads 1), wrk on core 1 (-t1)"
fi
load() { echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"; }
pid=""
trap '[[ -n $pid ]] && kill "$pid" 2>/dev/null; rm -rf "$W"' EXIT

"$B" train pricing --policy forecast --repo "$W/repo" --work-dir "$W/work" >/dev/null
ETA_MODEL=$PWD/build/bench-console/xgboost  # shared with bench/console/ui_cost.sh
if [[ ! -f $ETA_MODEL/manifest.json ]]; then
  "$B" train eta --train "$G/green_tripdata_2021-01.parquet" --valid "$G/green_tripdata_2021-02.parquet" \
    --model xgboost --features with-distance --threads 1 --out "$ETA_MODEL" --repo "$W/runs" \
    --no-publish > "$W/train.log"
fi
"$B" models publish eta --repo "$W/repo" --from "$ETA_MODEL" --backend native_trees > /dev/null
export BODY=$W/eta_body.json
echo '{"instances": [{"pickup_zone": 74, "dropoff_zone": 236, "pickup_datetime": "2021-02-10 08:31:00", "trip_distance": 2.1}]}' > "$BODY"
"${SERVER_CPU[@]}" "$B" serve --model-repo "$W/repo" --port "$PORT" --io-threads "$IO_THREADS" --poll-interval-ms 0 \
  >"$W/serve.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/v1/models/pricing" && break; sleep 0.1; done
# Live state: requests and idle drivers in every zone for the hour before the hot time.
events=""
for z in $(seq 40); do
  for m in 00 05 10 15 20 25 30 35 40 45 50 55; do
    events+="{\"zone\": $z, \"time\": \"2024-03-14 20:$m:00\", \"requests\": $(( (z * 7 + 10#$m) % 9 )), \"idle_drivers\": $(( z % 5 ))},"
  done
  events+="{\"zone\": $z, \"time\": \"2024-03-14 21:02:00\", \"requests\": $(( z % 6 + 1 )), \"idle_drivers\": $(( z % 3 ))},"
done
curl -s -XPOST "http://127.0.0.1:$PORT/v1/online/market" -d "{\"events\": [${events%,}]}"; echo
curl -s -XPOST "http://127.0.0.1:$PORT/v1/models/pricing:predict" \
  -d '{"instances": [{"zone": 5, "time": "2024-03-14 21:07:00", "estimated_distance": 3.1, "estimated_minutes": 14.5}]}'; echo

run_wrk() {  # MODE CONNECTIONS SECONDS [DELAY_MS]
  local lua=$LUA url=http://127.0.0.1:$PORT/v1/models/pricing:predict
  [[ $1 == eta ]] && { lua=$ETA_LUA; url=http://127.0.0.1:$PORT/v1/models/eta:predict; }
  MODE=$1 DELAY_MS=${4:-} "${WRK_CPU[@]}" wrk -t"$WRK_THREADS" -c"$2" -d"$3s" --latency -s "$lua" "$url" > "$W/wrk.txt"
  RATE=$(awk '/Requests\/sec/ {print int($2)}' "$W/wrk.txt")
  LAT=$(grep -E "latency p50" "$W/wrk.txt")
  ERR=$(grep -E "non-2xx" "$W/wrk.txt")
}
declare -A MAX=()
for mode in hot cold eta; do
  echo "=== $mode: maximum rate, wrk -t$WRK_THREADS -c16 -d5s, 3 rounds ($(load))"
  rates=()
  for r in 1 2 3; do run_wrk "$mode" 16 5; rates+=("$RATE"); echo "  $RATE req/s ($ERR)"; done
  MAX[$mode]=$(printf '%s\n' "${rates[@]}" | sort -n | sed -n 2p)
done
for r in $(seq "$ROUNDS"); do
  for mode in hot cold eta; do
    max=${MAX[$mode]}
    probe=$(( max / 1000 + 1 ))
    run_wrk "$mode" "$probe" 3 1
    paced=$(( (max / 2 * probe + RATE - 1) / (RATE > 0 ? RATE : 1) ))   # ⌈max/2 ÷ rate per connection⌉
    (( paced >= 1 )) || paced=1
    run_wrk "$mode" "$paced" 10 1
    echo "round $r $mode: paced $paced connections, 1 ms between requests, 10 s: $RATE req/s = $(( 100 * RATE / max ))% of $max; $LAT; $ERR ($(load))"
  done
done
