#!/usr/bin/env bash
# Served pricing latency (BENCHMARKS.md "Pricing endpoint"): batch-1 quotes through
# `bimride serve` (POST /v1/models/pricing:predict, the forecast policy reading its live state
# from the server's in-memory online store), measured as bench/serving/run.sh measures ETA
# serving: the maximum rate with wrk -t2 -c16 (median of 3 rounds of 5 s), then the latency at
# about half of it (wrk paced with delay(): 1 ms between requests on each connection, as many
# connections as half the rate needs, 10 s). Both the hot path (a zone's multiplier of the
# current 5 minutes already set) and the cold path (every request runs the engine).
#
#   bench/pricing/serving_latency.sh       (after building `bimride`)
set -euo pipefail
cd "$(dirname "$0")/../.."
B=$PWD/build/bimride
LUA=$PWD/bench/pricing/quote.lua
W=$(mktemp -d /tmp/pricing-bench.XXXX)
PORT=${PORT:-18093}
CORES=$(nproc)
load() { echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"; }
pid=""
trap '[[ -n $pid ]] && kill "$pid" 2>/dev/null; rm -rf "$W"' EXIT

"$B" train pricing --policy forecast --repo "$W/repo" --work-dir "$W/work" >/dev/null
"$B" serve --model-repo "$W/repo" --port "$PORT" --io-threads "$CORES" --poll-interval-ms 0 \
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
  MODE=$1 DELAY_MS=${4:-} wrk -t2 -c"$2" -d"$3s" --latency -s "$LUA" \
    "http://127.0.0.1:$PORT/v1/models/pricing:predict" > "$W/wrk.txt"
  grep -E "Requests/sec|non-2xx|latency p50" "$W/wrk.txt"
  RATE=$(awk '/Requests\/sec/ {print int($2)}' "$W/wrk.txt")
}
for mode in hot cold; do
  echo "=== $mode: maximum rate, wrk -t2 -c16 -d5s, 3 rounds ($(load))"
  rates=()
  for r in 1 2 3; do run_wrk "$mode" 16 5; rates+=("$RATE"); done
  max=$(printf '%s\n' "${rates[@]}" | sort -n | sed -n 2p)
  paced=$(( max / 1000 + 1 ))
  echo "=== $mode: paced to about half of $max req/s: $paced connections, 1 ms between requests, 10 s ($(load))"
  run_wrk "$mode" "$paced" 10 1
  echo "paced rate: $RATE req/s = $(( 100 * RATE / max ))% of the maximum"
done
