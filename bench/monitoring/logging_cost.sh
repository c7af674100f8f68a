#!/usr/bin/env bash
# What full prediction logging costs the model server (#13, "Cost"): the same `bimride serve`
# build, model and body, with and without `--prediction-log` (every request logged, the live
# monitor on), side by side in one run, wrk over HTTP/1.1 keep-alive at the serving benchmark's
# settings (wrk -t2 -c16), in alternating rounds; medians and their ratio, and the server's CPU
# time per request (all threads, /proc/PID/stat), which a loaded machine disturbs less. A reduced variant of
# bench/serving/run.sh (no Python or nginx peers: the peer here is the server without logging).
#
#   bench/monitoring/logging_cost.sh [ROUNDS]   (after building `bimride`; trains a model once)
#
# PEER=/path/to/another/bimride: a third server, that binary with full logging, in the same
# rounds (the order rotates), to compare two builds' logging side by side.
# PEER_FROM=/path/to/a/model/folder: the peer serves that version instead (published into a
# repository of its own; PEER defaults to this build): two models' logging side by side, e.g.
# two loss estimators.
# BODIES=varied: each request the next of 3,977 real trips of green 2021-02 (every 16th, in
# file order; BODIES in bench/serving/predict.lua) instead of one body repeated: distinct values in every
# logged column and different paths through the trees, as real traffic has.
# PINNED=1: every server on core 0 with one I/O thread (the log's writer shares that core) and
# wrk on core 1 with one thread, so wrk and the server do not take turns on the same cores: the
# req/s cost is then the CPU the logging takes from the one core serving.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=$PWD/build/bimride
W=$PWD/build/bench-monitoring
G=${BIMRIDE_DATA_DIR:-$PWD/../shared/data}/tlc_green
LUA=$PWD/bench/serving/predict.lua
ROUNDS=${1:-5}
T=2; C=16; CORES=$(nproc)
SERVER_CPU=(); WRK_CPU=()
if [[ ${PINNED:-0} == 1 ]]; then
  SERVER_CPU=(taskset -c 0); WRK_CPU=(taskset -c 1); T=1; CORES=1
fi
[[ -x $B ]] || { echo "logging_cost.sh: $B is missing; build it" >&2; exit 1; }
mkdir -p "$W"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
load() { cut -d' ' -f1-3 /proc/loadavg; }
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
wait_http() { for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1; done; return 1; }
ticks() { awk '{print $14 + $15}' "$1"; }  # user + system ticks of a /proc …/stat file
cpu_ticks() { ticks "/proc/$1/stat"; }  # the server's, all its threads
writer_ticks() {  # the prediction log's writer thread's (named log-writer), or 0
  local t n=0
  for t in /proc/"$1"/task/*; do
    [[ $(cat "$t/comm" 2>/dev/null) == log-writer ]] && n=$((n + $(ticks "$t/stat")))
  done
  echo "$n"
}
run_wrk() {  # URL PID → $RATE, $CPU_US (server CPU µs per request, all its threads), $WRITER_US
  local before after wbefore wafter requests hz
  before=$(cpu_ticks "$2"); wbefore=$(writer_ticks "$2")
  BODY=$RAW BODIES=$VARIED "${WRK_CPU[@]}" wrk -t$T -c$C -d5s --latency -s "$LUA" "$1" \
    > "$W/wrk.txt"
  after=$(cpu_ticks "$2"); wafter=$(writer_ticks "$2")
  grep -E "Requests/sec|non-2xx|latency p50" "$W/wrk.txt"
  RATE=$(awk '/Requests\/sec/ {print int($2)}' "$W/wrk.txt")
  requests=$(awk '/requests in/ {print $1}' "$W/wrk.txt")
  hz=$(getconf CLK_TCK)
  CPU_US=$(awk -v t=$((after - before)) -v hz="$hz" -v n="$requests" \
    'BEGIN {printf "%.1f", t / hz * 1e6 / n}')
  WRITER_US=$(awk -v t=$((wafter - wbefore)) -v hz="$hz" -v n="$requests" \
    'BEGIN {printf "%.2f", t / hz * 1e6 / n}')
  echo "server CPU per request: $CPU_US µs (of which the log's writer thread: $WRITER_US µs)"
}

echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $(load)${PINNED:+, pinned (servers on core 0, wrk on core 1)}"
# The with-distance XGBoost ETA model (once; 300 rounds to keep it quick), in a repository of its own.
if [[ ! -f $W/xgboost/manifest.json ]]; then
  "$B" train eta --train "$G/green_tripdata_2021-01.parquet" --valid "$G/green_tripdata_2021-02.parquet" \
    --model xgboost --features with-distance --rounds 300 --threads 1 --out "$W/xgboost" --repo "$W/runs" \
    --no-publish > "$W/train.log"
fi
REPO=$W/repo; LOG=$W/prediction_log
rm -rf "$REPO" "$LOG"
"$B" models publish eta --repo "$REPO" --from "$W/xgboost" > /dev/null
RAW=$W/body_raw.json
echo '{"instances": [{"pickup_zone": 74, "dropoff_zone": 236, "pickup_datetime": "2021-02-10 08:31:00", "trip_distance": 2.1}]}' > "$RAW"
VARIED=""  # the bodies file for predict.lua's BODIES, when varied
if [[ ${BODIES:-} == varied ]]; then
  VARIED=$W/bodies.jsonl
  if [[ ! -s $W/bodies.jsonl ]]; then
    "$B" data convert "$G/green_tripdata_2021-02.parquet" "$W/trips_2021-02.csv" > /dev/null
    # source,pickup_time,dropoff_time,pickup_zone,dropoff_zone,…,distance_miles(10),…
    awk -F, 'NR > 1 && (NR - 2) % 16 == 0 && $4 != "" && $5 != "" && $10 != "" {
      printf "{\"instances\": [{\"pickup_zone\": %s, \"dropoff_zone\": %s, \"pickup_datetime\": \"%s\", \"trip_distance\": %s}]}\n", $4, $5, $2, $10
    }' "$W/trips_2021-02.csv" | head -4000 > "$W/bodies.jsonl"
  fi
  echo "request bodies: $(wc -l < "$W/bodies.jsonl") trips of green 2021-02, in turn"
fi

# Both servers idle until their turn, one I/O thread per core each.
"${SERVER_CPU[@]}" "$B" serve --model-repo "$REPO" --port 18182 --io-threads "$CORES" --poll-interval-ms 0 \
  > "$W/serve_off.log" 2>&1 & off=$!; pids+=("$off")
"${SERVER_CPU[@]}" "$B" serve --model-repo "$REPO" --port 18183 --io-threads "$CORES" --poll-interval-ms 0 \
  --prediction-log "$LOG" > "$W/serve_on.log" 2>&1 & on=$!; pids+=("$on")
wait_http 18182; wait_http 18183
curl -s -XPOST -d @"$RAW" http://127.0.0.1:18183/v1/models/eta:predict; echo
who_all="off on"
PEER_REPO=$REPO
if [[ -n ${PEER_FROM:-} ]]; then
  PEER=${PEER:-$B}
  PEER_REPO=$W/repo-peer
  rm -rf "$PEER_REPO"
  "$B" models publish eta --repo "$PEER_REPO" --from "$PEER_FROM" > /dev/null
fi
if [[ -n ${PEER:-} ]]; then
  rm -rf "$LOG-peer"
  "${SERVER_CPU[@]}" "$PEER" serve --model-repo "$PEER_REPO" --port 18184 --io-threads "$CORES" --poll-interval-ms 0 \
    --prediction-log "$LOG-peer" > "$W/serve_peer.log" 2>&1 & peer=$!; pids+=("$peer")
  wait_http 18184
  who_all="off on peer"
fi
# Warm-up to the steady state: no labels arrive in this benchmark, so the live monitor's
# pending-label rows grow until its bound (monitor.max_pending_rows, 1,048,576) and from then on
# every logged row evicts the oldest — as a busy server's do while labels lag (a trip's duration
# comes 10–60 minutes after its prediction). The writer's work per row grows with that table, so
# each logging server is loaded until it has logged more rows than the bound before the rounds
# (WARMUP=0: no warm-up, the rounds start from empty tables); the server without logging gets
# one 10-s load.
logged_rows() { curl -s "http://127.0.0.1:$1/metrics" | awk '/^bimride_prediction_log_rows_total/ {print int($2)}'; }
warm() {  # PORT [until this many rows are logged]
  local n=0
  while :; do
    BODY=$RAW BODIES=$VARIED "${WRK_CPU[@]}" wrk -t$T -c$C -d10s -s "$LUA" \
      "http://127.0.0.1:$1/v1/models/eta:predict" > /dev/null
    n=$((n + 1))
    [[ -z ${2:-} ]] && break
    (( $(logged_rows "$1") > $2 || n >= 20 )) && break
  done
  echo "warm-up of :$1: $n × 10 s${2:+, $(logged_rows "$1") rows logged}"
}
if [[ ${WARMUP:-1} != 0 ]]; then
  warm 18182
  warm 18183 1100000
  [[ -n ${PEER:-} ]] && warm 18184 1100000
fi
off_rates=(); on_rates=(); off_cpu=(); on_cpu=(); peer_rates=(); peer_cpu=(); on_writer=(); peer_writer=()
for round in $(seq "$ROUNDS"); do
  echo "=== round $round (load average $(load))"
  order=$who_all
  if [[ -n ${PEER:-} ]]; then  # rotate: off on peer, on peer off, peer off on
    case $((round % 3)) in 2) order="on peer off" ;; 0) order="peer off on" ;; esac
  elif (( round % 2 == 0 )); then
    order="on off"
  fi
  for who in $order; do
    if [[ $who == off ]]; then
      echo "- logging off"; run_wrk http://127.0.0.1:18182/v1/models/eta:predict "$off"
      off_rates+=("$RATE"); off_cpu+=("$CPU_US")
    elif [[ $who == on ]]; then
      echo "- full logging (--prediction-log, sample rate 1, live monitor)"
      run_wrk http://127.0.0.1:18183/v1/models/eta:predict "$on"
      on_rates+=("$RATE"); on_cpu+=("$CPU_US"); on_writer+=("$WRITER_US")
    else
      echo "- full logging, $PEER${PEER_FROM:+ serving $PEER_FROM}"
      run_wrk http://127.0.0.1:18184/v1/models/eta:predict "$peer"
      peer_rates+=("$RATE"); peer_cpu+=("$CPU_US"); peer_writer+=("$WRITER_US")
    fi
  done
done
mo=$(median "${off_rates[@]}"); mn=$(median "${on_rates[@]}")
echo "=== medians of $ROUNDS rounds: logging off $mo req/s, full logging $mn req/s;" \
     "cost $(awk -v a="$mo" -v b="$mn" 'BEGIN {printf "%.1f%%", 100 * (a - b) / a}')" \
     "(rounds off: ${off_rates[*]}; on: ${on_rates[*]})"
co=$(median "${off_cpu[@]}"); cn=$(median "${on_cpu[@]}")
echo "=== server CPU per request, medians: logging off $co µs, full logging $cn µs;" \
     "on/off $(awk -v a="$co" -v b="$cn" 'BEGIN {printf "%.3f", b / a}')" \
     "(rounds off: ${off_cpu[*]}; on: ${on_cpu[*]}); load average $(load)"
echo "=== the log's writer thread, CPU µs per request, median: $(median "${on_writer[@]}")" \
     "(rounds: ${on_writer[*]})"
if [[ -n ${PEER:-} ]]; then
  echo "=== peer's writer thread, CPU µs per request, median: $(median "${peer_writer[@]}")" \
       "(rounds: ${peer_writer[*]}; 0: a build whose threads are not named)"
  mp=$(median "${peer_rates[@]}"); cp=$(median "${peer_cpu[@]}")
  echo "=== peer ($PEER), full logging: median $mp req/s, cost $(awk -v a="$mo" -v b="$mp" \
    'BEGIN {printf "%.1f%%", 100 * (a - b) / a}'); CPU $cp µs, on/off $(awk -v a="$co" -v b="$cp" \
    'BEGIN {printf "%.3f", b / a}') (rounds: ${peer_rates[*]}; CPU: ${peer_cpu[*]})"
fi
curl -s http://127.0.0.1:18183/metrics | grep -E "^bimride_prediction_log_(rows|dropped_rows|lost_rows)_total|^bimride_prediction_log_bytes"
