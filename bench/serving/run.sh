#!/usr/bin/env bash
# The serving benchmark, one run (BENCHMARKS.md "Model server"): `bimride serve` serving the
# real ETA models of results/eta.md, driven by Debian's wrk over HTTP/1.1 keep-alive, side by
# side in the same run with
#   - FastAPI + uvicorn + PyTorch serving the same TorchScript file on the same body, in
#     uvicorn's fast form (uvloop, httptools) with one worker per core — the headline peer, and
#   - nginx answering a fixed JSON body (the HTTP ceiling of this machine and load generator).
# Like with like in every ratio: the same engine (our `torchscript` backend, the same model.pt),
# the same request body, the same wrk -t/-c, our I/O threads = Python's workers = one per core;
# noisy figures in alternating rounds, medians and ratios computed here. Then: overhead from
# the socket (wrk p50 at one connection minus the model's in-process compute p50, for us and
# for Python the same way), the other backends and bodies, latency at about half our maximum
# rate (wrk paced with delay()), dynamic batching against no batching (same server threads and
# wrk -t/-c), and a rollback plus a hot swap under load (counting failed requests).
#
#   bench/serving/run.sh            (after scripts/setup; trains the models once, ~5 min)
#
# Results go to stdout; the server's own histograms come from its /metrics.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=$PWD/build/bimride
COMPUTE=$PWD/build/bench/serving_model_compute
W=$PWD/build/bench-serving
G=${BIMRIDE_DATA_DIR:-$PWD/../shared/data}/tlc_green
LUA=$PWD/bench/serving/predict.lua
PEER="/usr/bin/python3 $PWD/bench/peers/fastapi_server.py"
SUMMARY="/usr/bin/python3 $PWD/bench/serving/metrics_summary.py"
CORES=$(nproc)   # our I/O threads = Python's workers = one per core (nginx: 2, its config)
T=2              # wrk threads, every run
C=16             # wrk connections, headline and other rows
CB=64            # wrk connections, batching
ROUNDS=5         # alternating rounds of the headline (3 for the rest)
for f in "$B" "$COMPUTE"; do
  [[ -x $f ]] || { echo "run.sh: $f is missing; build it (scripts/setup builds both)" >&2; exit 1; }
done
mkdir -p "$W"

pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
section() { echo; echo "=== $*"; }
load() { echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"; }
wait_http() {  # PORT: until the port answers
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1; done
  echo "nothing listens on port $1" >&2; return 1
}
cpu_ticks() {  # PID…: user + system clock ticks of these processes and their children so far
  local p all=()
  for p in "$@"; do all+=("$p" $(cat /proc/"$p"/task/*/children 2>/dev/null)); done
  for p in "${all[@]}"; do cat /proc/"$p"/stat 2>/dev/null || true; done |
    awk '{sub(/^.*\) /, ""); t += $12 + $13} END {print t + 0}'   # utime, stime after "(comm) "
}
# THREADS CONNECTIONS URL BODY [DELAY_MS] [SECONDS]: prints wrk's summary; the rate lands in
# $RATE, the latency p50 (µs) in $P50. With WATCH="PID…" set, also the CPU time those server
# processes (and their children: uvicorn's and nginx's workers) spent per request, in $CPU (µs):
# a figure that other jobs on the machine disturb far less than the rate.
run_wrk() {
  local before=0
  [[ -n ${WATCH:-} ]] && before=$(cpu_ticks $WATCH)
  BODY=$4 DELAY_MS=${5:-} wrk -t"$1" -c"$2" -d"${6:-5}s" --latency -s "$LUA" "$3" > "$W/wrk.txt"
  grep -E "Requests/sec|non-2xx|latency p50" "$W/wrk.txt"
  RATE=$(awk '/Requests\/sec/ {print int($2)}' "$W/wrk.txt")
  P50=$(awk '/^latency p50/ {print $3}' "$W/wrk.txt")
  if [[ -n ${WATCH:-} ]]; then
    CPU=$(awk -v t=$(( $(cpu_ticks $WATCH) - before )) -v hz="$(getconf CLK_TCK)" \
      '/requests in/ {printf "%.1f", t / hz * 1e6 / $1}' "$W/wrk.txt")
    echo "server CPU: $CPU us per request"
  fi
}
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }   # A / B
percent() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0f%%", 100 * a / b}'; }   # A / B

section "machine and peers"
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(load)"
dpkg-query -W -f='${Package} ${Version}\n' wrk nginx-light python3-fastapi uvicorn python3-uvloop \
  python3-httptools python3-torch

# 1. The models (once): the with-distance LibTorch net and XGBoost model of results/eta.md.
train() {  # KIND
  [[ -f $W/$1/manifest.json ]] && return 0
  "$B" train eta --train "$G/green_tripdata_2021-01.parquet" --valid "$G/green_tripdata_2021-02.parquet" \
    --model "$1" --features with-distance --threads 1 --out "$W/$1" --repo "$W/runs" --no-publish \
    > "$W/$1.train.log"
}
train torch
train xgboost

# 2. One repository: the same files under each backend that loads them.
REPO=$W/repo
rm -rf "$REPO"
"$B" models publish eta --repo "$REPO" --from "$W/torch" > /dev/null                      # torchscript
"$B" models publish eta_native --repo "$REPO" --from "$W/torch" --backend native_mlp --artifact net.json > /dev/null
"$B" models publish eta_xgb --repo "$REPO" --from "$W/xgboost" > /dev/null                 # xgboost
"$B" models publish eta_trees --repo "$REPO" --from "$W/xgboost" --backend native_trees > /dev/null
"$B" models promote eta 1 --repo "$REPO" --label stable --why "benchmark" > /dev/null

# 3. Request bodies: one February trip as raw fields (the server computes the 32 features), and a
# numeric feature row (each feature at its training median, from the manifest) for the servers
# that take tensors — the Python peer and our numeric path.
RAW=$W/body_raw.json
echo '{"instances": [{"pickup_zone": 74, "dropoff_zone": 236, "pickup_datetime": "2021-02-10 08:31:00", "trip_distance": 2.1}]}' > "$RAW"
FEATURES=$W/body_features.json
/usr/bin/python3 - "$W/torch/manifest.json" "$FEATURES" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
stats = m["feature_stats"]
names = m["properties"]["feature_names"].split(",")
width = m["inputs"][0]["shape"][1]
assert len(names) == width, (len(names), width)
# Each feature at its training median: a typical request, with the ids as whole numbers.
row = [float(stats[n]["quantiles"][4]) for n in names]
json.dump({"instances": [row]}, open(sys.argv[2], "w"))
EOF

# 4. The servers, side by side, all idle until their turn: ours (one I/O thread per core,
# batching off), the Python peer (one uvicorn worker per core, uvloop + httptools, asked for
# explicitly and checked from each worker's startup line), nginx (2 workers, as its config says).
"$B" serve --model-repo "$REPO" --port 18082 --io-threads "$CORES" --poll-interval-ms 0 \
  > "$W/serve.log" 2>&1 & ours=$!; pids+=("$ours")
$PEER --port 18081 --model "$W/torch/model.pt" --workers "$CORES" --loop uvloop --http httptools \
  > "$W/fastapi.log" 2>&1 & py=$!; pids+=("$py")
mkdir -p /tmp/bimride-nginx2
nginx -p /tmp/bimride-nginx2 -c "$PWD/bench/peers/nginx-2workers.conf" & ngx=$!; pids+=("$ngx")
wait_http 18082
wait_http 18086
for _ in $(seq 150); do
  curl -s -o /dev/null -XPOST -d @"$FEATURES" http://127.0.0.1:18081/v1/models/eta:predict && break
  sleep 0.2
done
section "the Python peer's workers"
sleep 1
cat "$W/fastapi.log"
fast=$(grep -c "loop uvloop\.Loop, http httptools, torch threads 1$" "$W/fastapi.log" || true)
if (( fast != CORES )); then
  echo "run.sh: expected $CORES uvicorn workers on uvloop + httptools, found $fast" >&2; exit 1
fi
curl -s -XPOST -d @"$FEATURES" http://127.0.0.1:18081/v1/models/eta:predict; echo
curl -s -XPOST -d @"$FEATURES" http://127.0.0.1:18082/v1/models/eta:predict; echo
OURS=http://127.0.0.1:18082/v1/models
PY=http://127.0.0.1:18081/v1/models/eta:predict
NGINX=http://127.0.0.1:18086/v1/models/eta:predict

# 5. The headline: our torchscript backend against the Python peer, same model.pt, same
# features body, same wrk -t/-c, in $ROUNDS rounds alternating the order; nginx's fixed body as
# the ceiling in each round, with our lean native_mlp backend on the raw fields beside it (its
# comparison is with nginx, not with Python: another engine and another body).
ours_rates=(); py_rates=(); ngx_rates=(); native_rates=()
ours_cpu=(); py_cpu=(); ngx_cpu=(); native_cpu=()
for round in $(seq $ROUNDS); do
  section "round $round ($(load))"
  order="ngx ours native py"; (( round % 2 == 0 )) && order="py native ours ngx"
  for who in $order; do
    case $who in
      ngx) echo "- nginx, fixed body (2 workers), wrk -t$T -c$C -d5s"
           WATCH=$ngx run_wrk $T $C "$NGINX" "$RAW"; ngx_rates+=("$RATE"); ngx_cpu+=("$CPU") ;;
      ours) echo "- bimride serve ($CORES I/O threads), eta (torchscript), features body, wrk -t$T -c$C -d5s"
            WATCH=$ours run_wrk $T $C "$OURS/eta:predict" "$FEATURES"
            ours_rates+=("$RATE"); ours_cpu+=("$CPU") ;;
      native) echo "- bimride serve ($CORES I/O threads), eta_native (native_mlp), raw body, wrk -t$T -c$C -d5s"
              WATCH=$ours run_wrk $T $C "$OURS/eta_native:predict" "$RAW"
              native_rates+=("$RATE"); native_cpu+=("$CPU") ;;
      py) echo "- FastAPI + uvicorn ($CORES workers, uvloop, httptools) + PyTorch, same model.pt, features body, wrk -t$T -c$C -d5s"
          WATCH=$py run_wrk $T $C "$PY" "$FEATURES"; py_rates+=("$RATE"); py_cpu+=("$CPU") ;;
    esac
  done
  echo "round $round: torchscript/Python $(ratio "${ours_rates[-1]}" "${py_rates[-1]}")x," \
       "torchscript/nginx $(percent "${ours_rates[-1]}" "${ngx_rates[-1]}")," \
       "native_mlp raw/nginx $(percent "${native_rates[-1]}" "${ngx_rates[-1]}")"
done
mo=$(median "${ours_rates[@]}"); mp=$(median "${py_rates[@]}"); mn=$(median "${ngx_rates[@]}")
native_raw=$(median "${native_rates[@]}")
section "headline, medians of the $ROUNDS rounds (req/s)"
echo "bimride torchscript $mo, Python $mp, nginx $mn, bimride native_mlp raw $native_raw;" \
     "torchscript/Python $(ratio "$mo" "$mp")x, torchscript/nginx $(percent "$mo" "$mn")," \
     "native_mlp raw/nginx $(percent "$native_raw" "$mn")"
co=$(median "${ours_cpu[@]}"); cp=$(median "${py_cpu[@]}"); cn=$(median "${ngx_cpu[@]}")
cnat=$(median "${native_cpu[@]}")
echo "server CPU per request (us): bimride torchscript $co, Python $cp, nginx $cn," \
     "bimride native_mlp raw $cnat; Python/torchscript $(ratio "$cp" "$co")x"

# 6. The other backends and bodies, on the same server with the same wrk -t/-c (once each).
for target in "eta raw" "eta_native features" "eta_trees features" "eta_xgb features"; do
  set -- $target
  body=$([[ $2 == raw ]] && echo "$RAW" || echo "$FEATURES")
  section "bimride serve ($CORES I/O threads), $1 ($2 body), wrk -t$T -c$C -d5s ($(load))"
  curl -s -XPOST -d @"$body" "$OURS/$1:predict"; echo
  run_wrk $T $C "$OURS/$1:predict" "$body"
done

# 7. Overhead from the socket: at one connection (no queueing) wrk's p50 latency minus the
# model's compute p50, timed in-process on the same model file and body (the call each server
# makes per request: our Model::Predict; Python's tensor + forward + tolist). wrk's latency
# includes the kernel's loopback and wrk itself, so nginx's fixed body at one connection is
# given as the floor of that method.
section "overhead from the socket: wrk -t1 -c1 -d3s, 3 alternating rounds, medians"
ngx_p50=(); torch_p50=(); py_p50=(); native_p50=()
for round in 1 2 3; do
  echo "round $round ($(load))"
  order="ngx torch py native"; (( round % 2 == 0 )) && order="native py torch ngx"
  for who in $order; do
    case $who in
      ngx) echo "- nginx, fixed body"; run_wrk 1 1 "$NGINX" "$RAW" "" 3; ngx_p50+=("$P50") ;;
      torch) echo "- bimride serve, eta (torchscript), features"
             run_wrk 1 1 "$OURS/eta:predict" "$FEATURES" "" 3; torch_p50+=("$P50") ;;
      py) echo "- FastAPI peer, same model.pt, features"
          run_wrk 1 1 "$PY" "$FEATURES" "" 3; py_p50+=("$P50") ;;
      native) echo "- bimride serve, eta_native (native_mlp), features"
              run_wrk 1 1 "$OURS/eta_native:predict" "$FEATURES" "" 3; native_p50+=("$P50") ;;
    esac
  done
done
floor=$(median "${ngx_p50[@]}")
compute_p50() {  # COMMAND…: runs a compute timer, prints its line; its p50 lands in $CP50
  local line; line=$("$@"); echo "$line"
  CP50=$(awk '{for (i = 1; i < NF; i++) if ($i == "p50") print $(i + 1)}' <<< "$line")
}
compute_p50 "$COMPUTE" --backend torchscript --artifact "$W/torch/model.pt" --body "$FEATURES"; c_torch=$CP50
compute_p50 "$COMPUTE" --backend native_mlp --artifact "$W/torch" --body "$FEATURES"; c_native=$CP50
compute_p50 $PEER --model "$W/torch/model.pt" --time-compute "$FEATURES"; c_py=$CP50
overhead() { awk -v n="$1" -v s="$2" -v c="$3" -v f="$floor" \
  'BEGIN {printf "%s: wrk p50 %.0f us - compute p50 %.1f us = overhead %.0f us (nginx floor %.0f us)\n", n, s, c, s - c, f}'; }
overhead "bimride torchscript" "$(median "${torch_p50[@]}")" "$c_torch"
overhead "Python peer" "$(median "${py_p50[@]}")" "$c_py"
overhead "bimride native_mlp" "$(median "${native_p50[@]}")" "$c_native"
section "bimride serve's own histograms (all runs above; bucket upper bounds, a cross-check)"
curl -s http://127.0.0.1:18082/metrics | $SUMMARY | grep -E "total|compute|overhead"

# 8. Latency at about half of the maximum rate (native_mlp, raw body: its median rate in
# section 5): each connection waits 1 ms after each answer (wrk's delay() has millisecond
# steps), with as many connections as half the rate needs.
paced=$(( native_raw / 1000 + 1 ))   # ~500 req/s per connection: a 1 ms timer tick + the answer
section "bimride serve, eta_native raw, paced to about half of $native_raw req/s: $paced connections, 1 ms between requests, 10 s ($(load))"
run_wrk $T "$paced" "$OURS/eta_native:predict" "$RAW" 1 10
echo "paced rate: $RATE req/s = $(( 100 * RATE / native_raw ))% of the maximum"
kill "$ngx"; wait "$ngx" 2>/dev/null || true

# 9. Dynamic batching: the same server threads with and without batching (torchscript, features
# body), the same wrk -t/-c, with many connections; the Python peer at the same -c alongside.
# Three rounds, alternating which server goes first.
cat > "$W/batching.json" <<JSON
{"models": {"eta": {"batching": {"max_batch_size": 64, "max_queue_delay_us": 500,
                                 "max_queue_size": 4096}}}}
JSON
"$B" serve --model-repo "$REPO" --port 18083 --io-threads "$CORES" --poll-interval-ms 0 \
  --config "$W/batching.json" > "$W/serve_batch.log" 2>&1 & batch=$!; pids+=("$batch")
wait_http 18083
BATCHED=http://127.0.0.1:18083/v1/models/eta:predict
b_rates=(); u_rates=(); pb_rates=()
for round in 1 2 3; do
  section "batching round $round: wrk -t$T -c$CB -d5s, features body ($(load))"
  order="u b py"; (( round % 2 == 0 )) && order="b u py"
  for who in $order; do
    case $who in
      u) echo "- bimride serve ($CORES I/O threads), eta (torchscript), no batching"
         run_wrk $T $CB "$OURS/eta:predict" "$FEATURES"; u_rates+=("$RATE") ;;
      b) echo "- bimride serve ($CORES I/O threads), eta (torchscript), batching 64 rows / 500 us"
         run_wrk $T $CB "$BATCHED" "$FEATURES"; b_rates+=("$RATE") ;;
      py) echo "- FastAPI peer ($CORES workers), same model.pt"
          run_wrk $T $CB "$PY" "$FEATURES"; pb_rates+=("$RATE") ;;
    esac
  done
done
mb=$(median "${b_rates[@]}"); mu=$(median "${u_rates[@]}"); mpb=$(median "${pb_rates[@]}")
section "batching, medians of the 3 rounds (req/s)"
echo "batched $mb, unbatched $mu, Python $mpb; batched/unbatched $(ratio "$mb" "$mu")x," \
     "batched/Python $(ratio "$mb" "$mpb")x, unbatched/Python $(ratio "$mu" "$mpb")x"
curl -s http://127.0.0.1:18083/metrics | $SUMMARY | grep -E 'model="eta"' | grep -E "batch_rows|queue|compute"
kill -TERM "$batch"; wait "$batch" || true
kill -TERM "$ours"; wait "$ours" || true
kill "$py"; wait "$py" 2>/dev/null || true

# 10. Rollback and hot swap under load, with the default version policy (latest 1): requests go
# to eta's `stable` label while the label moves 1 → 2 (version 1 then unloads: neither latest nor
# labelled), back to 1 (rollback: version 1 loads again while 2 keeps serving the label), a new
# version 3 is published and loaded, and `stable` moves to 3.
section "rollback and hot swap under load (default policy latest 1): wrk -t1 -c16 on /v1/models/eta/labels/stable, from before the first move to 2 s after the last"
cat > "$W/rollout.json" <<EOF
{"server": {"io_threads": 1, "poll_interval_ms": 100}}
EOF
"$B" models publish eta --repo "$REPO" --from "$W/torch" > /dev/null   # version 2
"$B" serve --model-repo "$REPO" --port 18084 --config "$W/rollout.json" > "$W/serve_rollout.log" 2>&1 & roll=$!; pids+=("$roll")
wait_http 18084
# wrk runs until interrupted (on SIGINT it stops and prints its summary), so that every move
# happens under load however long the commands take on a busy machine.
BODY=$FEATURES wrk -t1 -c16 -d600s --latency -s "$LUA" \
  "http://127.0.0.1:18084/v1/models/eta/labels/stable:predict" > "$W/wrk.txt" & load_gen=$!
pids+=("$load_gen")
sleep 2; "$B" models promote eta 2 --repo "$REPO" --label stable --why "bench: canary good"
sleep 2; "$B" models rollback eta --repo "$REPO" --label stable --why "bench: roll back"
sleep 2; "$B" models publish eta --repo "$REPO" --from "$W/torch"   # version 3: hot swap of 1
sleep 2; "$B" models promote eta 3 --repo "$REPO" --label stable --why "bench: new version"
sleep 2; kill -INT "$load_gen"; wait "$load_gen"
grep -E "Requests/sec|non-2xx|latency p50" "$W/wrk.txt"
curl -s http://127.0.0.1:18084/metrics | grep -E '^bimride_predict_requests_total|^bimride_model_version_loaded'
curl -s http://127.0.0.1:18084/v1/models/eta; echo
kill -TERM "$roll"; wait "$roll" || true
