#!/usr/bin/env bash
# Does the web console cost the predict path anything? (#18, BENCHMARKS.md "Web console")
# The serving benchmark's batch-1 predict (bench/serving/predict.lua, wrk -t2 -c16 -d5s, two I/O
# threads, the same model files and body) against, side by side in alternating rounds:
#   main      main's `bimride serve` (MAIN_BIMRIDE, default ../main/build/bimride: no console)
#   ui        this build's `bimride serve`, console on (/ui/ served)
#   ui+page   the same server while a console page is open: its traffic stream and the
#             monitoring and registry JSON fetched every second during the run
#   no-ui     this build with --no-ui (the same binary, no console handler)
# Each round runs the four in a rotated order; medians of requests/s and of the server's CPU µs
# per request (user + system from /proc), and each against main.
#
#   bench/console/ui_cost.sh        (after scripts/setup; trains the XGBoost ETA model once)
set -euo pipefail
cd "$(dirname "$0")/../.."
B=$PWD/build/bimride
MAIN=${MAIN_BIMRIDE:-$PWD/../main/build/bimride}
W=$PWD/build/bench-console
G=${BIMRIDE_DATA_DIR:-$PWD/../shared/data}/tlc_green
LUA=$PWD/bench/serving/predict.lua
ROUNDS=${ROUNDS:-5}
for f in "$B" "$MAIN"; do [[ -x $f ]] || { echo "ui_cost.sh: $f is missing" >&2; exit 1; }; done
mkdir -p "$W"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
cpu_ticks() { awk '{sub(/^.*\) /, ""); t += $12 + $13} END {print t + 0}' /proc/"$1"/stat; }
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "main: $MAIN ($(git -C "$(dirname "$MAIN")/.." log -1 --format=%h 2>/dev/null || echo '?')); ui: $B ($(git log -1 --format=%h))"
if [[ ! -f $W/xgboost/manifest.json ]]; then
  "$B" train eta --train "$G/green_tripdata_2021-01.parquet" --valid "$G/green_tripdata_2021-02.parquet" \
    --model xgboost --features with-distance --threads 1 --out "$W/xgboost" --repo "$W/runs" \
    --no-publish > "$W/train.log"
fi
REPO=$W/repo
rm -rf "$REPO"
"$B" models publish eta_trees --repo "$REPO" --from "$W/xgboost" --backend native_trees > /dev/null
BODY=$W/body_raw.json
echo '{"instances": [{"pickup_zone": 74, "dropoff_zone": 236, "pickup_datetime": "2021-02-10 08:31:00", "trip_distance": 2.1}]}' > "$BODY"

declare -A PORT=() PID=()
start() {  # NAME BINARY [FLAGS…]: a server on a free port (printed in its log)
  local name=$1 bin=$2; shift 2
  "$bin" serve --model-repo "$REPO" --port 0 --io-threads 2 --poll-interval-ms 0 "$@" \
    > "$W/$name.log" 2>&1 &
  PID[$name]=$!; pids+=($!)
  for _ in $(seq 1200); do  # model load under other jobs' load can take a while
    PORT[$name]=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$W/$name.log" | head -1 | cut -d: -f2 || true)
    [[ -n ${PORT[$name]} ]] && break
    sleep 0.1
  done
  [[ -n ${PORT[$name]} ]] || { echo "ui_cost.sh: $name did not start" >&2; cat "$W/$name.log" >&2; exit 1; }
}
start main "$MAIN"
start ui "$B"
start no-ui "$B" --no-ui
for s in main ui no-ui; do
  for _ in $(seq 100); do
    curl -sf -o /dev/null -XPOST -d @"$BODY" "http://127.0.0.1:${PORT[$s]}/v1/models/eta_trees:predict" && break
    sleep 0.2
  done
done
curl -sf -o /dev/null "http://127.0.0.1:${PORT[ui]}/ui/" || { echo "ui_cost.sh: no console at /ui/" >&2; exit 1; }
[[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${PORT[no-ui]}/ui/") == 404 ]] || { echo "no-ui serves /ui/" >&2; exit 1; }

declare -A RATES CPUS
one() {  # CONFIG
  local s=$1 server=$1 page_pid=""
  [[ $s == ui+page ]] && server=ui
  if [[ $s == ui+page ]]; then
    (while true; do
       for p in api/traffic/stream api/monitor api/models; do
         curl -s -o /dev/null "http://127.0.0.1:${PORT[ui]}/ui/$p"; done; sleep 1; done) & page_pid=$!
  fi
  local before; before=$(cpu_ticks "${PID[$server]}")
  BODY=$BODY wrk -t2 -c16 -d5s --latency -s "$LUA" \
    "http://127.0.0.1:${PORT[$server]}/v1/models/eta_trees:predict" > "$W/wrk.txt"
  local after; after=$(cpu_ticks "${PID[$server]}")
  [[ -n $page_pid ]] && { kill "$page_pid"; wait "$page_pid" 2>/dev/null || true; }
  grep -q "non-2xx/3xx: 0, socket errors: 0" "$W/wrk.txt" || { cat "$W/wrk.txt"; exit 1; }
  local rate cpu
  rate=$(awk '/Requests\/sec/ {print int($2)}' "$W/wrk.txt")
  cpu=$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" \
    '/requests in/ {printf "%.1f", t / hz * 1e6 / $1}' "$W/wrk.txt")
  RATES[$s]+="$rate "; CPUS[$s]+="$cpu "
  printf "  %-8s %8d req/s  %6.1f us CPU/request  (load %s)\n" "$s" "$rate" "$cpu" "$(cut -d' ' -f1 /proc/loadavg)"
}
ORDER=(main ui ui+page no-ui)
for r in $(seq "$ROUNDS"); do
  echo "round $r"
  for k in 0 1 2 3; do one "${ORDER[$(( (k + r - 1) % 4 ))]}"; done
done
echo
echo "| server | requests/s (rounds) | median | vs main | CPU µs/request, median | vs main |"
echo "|---|---|---:|---:|---:|---:|"
mr=$(median ${RATES[main]}); mc=$(median ${CPUS[main]})
for s in main ui ui+page no-ui; do
  r=$(median ${RATES[$s]}); c=$(median ${CPUS[$s]})
  printf "| %s | %s | %s | %s | %s | %s |\n" "$s" "$(echo ${RATES[$s]} | tr ' ' ',')" "$r" \
    "$(awk -v a="$r" -v b="$mr" 'BEGIN {printf "%.3f", a / b}')" "$c" \
    "$(awk -v a="$c" -v b="$mc" 'BEGIN {printf "%.3f", a / b}')"
done
