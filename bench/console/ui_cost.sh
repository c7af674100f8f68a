#!/usr/bin/env bash
# Does the web console cost the predict path anything? (#18, BENCHMARKS.md "Web console")
# The serving benchmark's batch-1 predict (bench/serving/predict.lua, wrk -t2 -c16, two I/O
# threads, the same model files and body) in many short rounds, alternating between servers
# started together:
#   ui-a, ui-b        this build's `bimride serve`, console on (/ui/ served): two processes of
#                     the same configuration, so the spread between identical servers is measured
#                     in the same run (one process can be faster than another of the same binary:
#                     where its model's memory landed, which core it ran on)
#   no-ui-a, no-ui-b  the same binary with --no-ui (no console handler), two processes
#   ui+page           ui-a while a console page is open: its traffic stream held open (one
#                     response, an event a second) and the monitoring and registry JSON fetched
#                     every second
#   main              main's `bimride serve` (MAIN_BIMRIDE, default ../main/build/bimride), when
#                     that file exists
# Each round runs every server once, in an order rotated each round. The figure is the server's
# CPU µs per request (user + system from /proc/PID/stat over the round: what the console could
# add, independent of how much CPU the machine's other jobs left), with requests/s beside it.
# Per server: the median of the rounds and the quartiles (the spread); per configuration (a and
# b pooled); and the paired ratio no-ui / ui per round (each round's pooled medians, so slow
# drift of the machine's load cancels), median and quartiles of those ratios.
#
# PINNED=1: every server on core 0 with one I/O thread and wrk on core 1 with one thread, so the
# load generator and the server do not take turns on the same cores (as with wrk on another
# machine): the scheduler's sharing of two cores between wrk and the server otherwise moves CPU
# per request by more than the console could.
#
#   ROUNDS=40 SECONDS_PER_ROUND=3 bench/console/ui_cost.sh    (after scripts/setup; trains the
#                                                              XGBoost ETA model once)
set -euo pipefail
cd "$(dirname "$0")/../.."
B=$PWD/build/bimride
MAIN=${MAIN_BIMRIDE:-$PWD/../main/build/bimride}
W=$PWD/build/bench-console
G=${BIMRIDE_DATA_DIR:-$PWD/../shared/data}/tlc_green
LUA=$PWD/bench/serving/predict.lua
ROUNDS=${ROUNDS:-40}
SECS=${SECONDS_PER_ROUND:-3}
SERVER_CPU=(); WRK_CPU=(); IO_THREADS=2; WRK_THREADS=2
if [[ ${PINNED:-0} == 1 ]]; then
  SERVER_CPU=(taskset -c 0); WRK_CPU=(taskset -c 1); IO_THREADS=1; WRK_THREADS=1
fi
[[ -x $B ]] || { echo "ui_cost.sh: $B is missing (build it)" >&2; exit 1; }
mkdir -p "$W"
pids=()
page_pid=""
trap 'for p in "${pids[@]}" $page_pid; do kill "$p" 2>/dev/null || true; done' EXIT
cpu_ticks() { awk '{sub(/^.*\) /, ""); t += $12 + $13} END {print t + 0}' /proc/"$1"/stat; }
# quantile Q VALUES…: the Q-quantile (0..1) by the nearest rank.
quantile() {
  local q=$1; shift
  printf '%s\n' "$@" | sort -g | awk -v q="$q" '{v[NR] = $1} END {
    i = int(q * (NR - 1) + 0.5) + 1; print v[i]}'
}
spread() { echo "$(quantile 0.5 "$@") [$(quantile 0.25 "$@")–$(quantile 0.75 "$@")]"; }

echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "ui: $B ($(git log -1 --format=%h)); $ROUNDS rounds of ${SECS}s per server;"\
  "server --io-threads $IO_THREADS, wrk -t$WRK_THREADS -c16${SERVER_CPU:+ (pinned: servers on core 0, wrk on core 1)}"
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
  "${SERVER_CPU[@]}" "$bin" serve --model-repo "$REPO" --port 0 --io-threads "$IO_THREADS" \
    --poll-interval-ms 0 "$@" \
    > "$W/$name.log" 2>&1 &
  PID[$name]=$!; pids+=($!)
}
wait_port() {
  local name=$1
  for _ in $(seq 1200); do  # model load under other jobs' load can take a while
    PORT[$name]=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$W/$name.log" | head -1 | cut -d: -f2 || true)
    [[ -n ${PORT[$name]} ]] && break
    sleep 0.1
  done
  [[ -n ${PORT[$name]} ]] || { echo "ui_cost.sh: $name did not start" >&2; cat "$W/$name.log" >&2; exit 1; }
  for _ in $(seq 100); do
    curl -sf -o /dev/null -XPOST -d @"$BODY" "http://127.0.0.1:${PORT[$name]}/v1/models/eta_trees:predict" && return
    sleep 0.2
  done
  echo "ui_cost.sh: $name does not predict" >&2; exit 1
}
SERVERS=(ui-a ui-b no-ui-a no-ui-b)
start ui-a "$B"; start ui-b "$B"; start no-ui-a "$B" --no-ui; start no-ui-b "$B" --no-ui
if [[ -x $MAIN ]]; then
  start main "$MAIN"; SERVERS+=(main)
  echo "main: $MAIN ($(git -C "$(dirname "$MAIN")/.." log -1 --format=%h 2>/dev/null || echo '?'))"
fi
for s in "${SERVERS[@]}"; do wait_port "$s"; done
curl -sf -o /dev/null "http://127.0.0.1:${PORT[ui-a]}/ui/" || { echo "ui_cost.sh: no console at /ui/" >&2; exit 1; }
[[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${PORT[no-ui-a]}/ui/") == 404 ]] || { echo "no-ui serves /ui/" >&2; exit 1; }
CONFIGS=("${SERVERS[@]}" ui+page)

declare -A RATES CPUS
one() {  # CONFIG ROUND
  local s=$1 round=$2 server=$1
  [[ $s == ui+page ]] && server=ui-a
  if [[ $s == ui+page ]]; then
    local base="http://127.0.0.1:${PORT[ui-a]}/ui"
    (curl -sN -o /dev/null "$base/api/traffic/stream" & stream=$!
     trap 'kill $stream 2>/dev/null; exit 0' TERM
     while true; do
       for p in api/monitor api/models; do curl -s -o /dev/null "$base/$p"; done; sleep 1; done) &
    page_pid=$!
  fi
  local before; before=$(cpu_ticks "${PID[$server]}")
  BODY=$BODY "${WRK_CPU[@]}" wrk -t"$WRK_THREADS" -c16 -d"${SECS}s" -s "$LUA" \
    "http://127.0.0.1:${PORT[$server]}/v1/models/eta_trees:predict" > "$W/wrk.txt"
  local after; after=$(cpu_ticks "${PID[$server]}")
  if [[ -n $page_pid ]]; then kill "$page_pid"; wait "$page_pid" 2>/dev/null || true; page_pid=""; fi
  grep -q "non-2xx/3xx: 0, socket errors: 0" "$W/wrk.txt" || { cat "$W/wrk.txt"; exit 1; }
  local rate cpu
  rate=$(awk '/Requests\/sec/ {print int($2)}' "$W/wrk.txt")
  cpu=$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" \
    '/requests in/ {printf "%.2f", t / hz * 1e6 / $1}' "$W/wrk.txt")
  RATES[$s]+="$rate "; CPUS[$s]+="$cpu "
  ROUND_CPU[$s]=$cpu
  printf "  %-8s %8d req/s  %6.2f us CPU/request  (load %s)\n" "$s" "$rate" "$cpu" "$(cut -d' ' -f1 /proc/loadavg)"
}
declare -A ROUND_CPU
RATIOS=""; SAME=""
n=${#CONFIGS[@]}
for r in $(seq "$ROUNDS"); do
  echo "round $r"
  for k in $(seq 0 $((n - 1))); do one "${CONFIGS[$(( (k + r - 1) % n ))]}" "$r"; done
  RATIOS+="$(awk -v a="${ROUND_CPU[no-ui-a]}" -v b="${ROUND_CPU[no-ui-b]}" -v c="${ROUND_CPU[ui-a]}" \
    -v d="${ROUND_CPU[ui-b]}" 'BEGIN {printf "%.4f", (a + b) / (c + d)}') "
  SAME+="$(awk -v a="${ROUND_CPU[no-ui-a]}" -v b="${ROUND_CPU[no-ui-b]}" -v c="${ROUND_CPU[ui-a]}" \
    -v d="${ROUND_CPU[ui-b]}" 'BEGIN {printf "%.4f", (b + d) / (a + c)}') "
done
echo
echo "CPU µs per request and requests/s: median [quartiles] of $ROUNDS rounds of ${SECS}s"
echo
echo "| server | CPU µs/request | vs ui | requests/s |"
echo "|---|---:|---:|---:|"
ui_med=$(quantile 0.5 ${CPUS[ui-a]} ${CPUS[ui-b]})
for s in "${CONFIGS[@]}"; do
  c=$(quantile 0.5 ${CPUS[$s]})
  printf "| %s | %s | %s | %s |\n" "$s" "$(spread ${CPUS[$s]})" \
    "$(awk -v a="$c" -v b="$ui_med" 'BEGIN {printf "%.3f", a / b}')" "$(spread ${RATES[$s]})"
done
nu_med=$(quantile 0.5 ${CPUS[no-ui-a]} ${CPUS[no-ui-b]})
printf "| ui (a and b) | %s | 1.000 | %s |\n" "$(spread ${CPUS[ui-a]} ${CPUS[ui-b]})" \
  "$(spread ${RATES[ui-a]} ${RATES[ui-b]})"
printf "| no-ui (a and b) | %s | %s | %s |\n" "$(spread ${CPUS[no-ui-a]} ${CPUS[no-ui-b]})" \
  "$(awk -v a="$nu_med" -v b="$ui_med" 'BEGIN {printf "%.3f", a / b}')" \
  "$(spread ${RATES[no-ui-a]} ${RATES[no-ui-b]})"
echo
echo "no-ui / ui CPU per request, paired by round: $(spread $RATIOS)"
echo "the same pairing between identical servers, (no-ui-b + ui-b) / (no-ui-a + ui-a): $(spread $SAME)"
echo "identical servers: ui-b / ui-a $(awk -v a="$(quantile 0.5 ${CPUS[ui-b]})" -v b="$(quantile 0.5 ${CPUS[ui-a]})" 'BEGIN {printf "%.3f", a / b}'),"\
  "no-ui-b / no-ui-a $(awk -v a="$(quantile 0.5 ${CPUS[no-ui-b]})" -v b="$(quantile 0.5 ${CPUS[no-ui-a]})" 'BEGIN {printf "%.3f", a / b}')"
