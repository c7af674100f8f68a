#!/usr/bin/env bash
# The gRPC serving benchmark, one run (BENCHMARKS.md "Model server over gRPC"): batch-1 KServe v2
# ModelInfer on `bimride serve --grpc-port`, side by side in the same run with
#   - our own REST on the same server, same model: KServe v2 POST /v2/models/eta/infer (JSON),
#     driven by wrk;
#   - a Python grpcio KServe v2 server (bench/peers/kserve_grpc_server.py) serving the same
#     model.pt with PyTorch, one process per core.
# Like with like: the same TorchScript file (prepared the same way), the same feature row
# (bench/serving/run.sh's features body), the same client concurrency — 16 connections with one
# request in flight on each, wrk's closed loop for REST and grpc_infer_load's for gRPC —, our I/O
# threads = the peer's processes = one per core. Alternating rounds, medians and ratios computed
# here, with each server's CPU time per request (user + system from /proc, children included).
# Our native_mlp backend on the same net runs in the same rounds, over gRPC and REST: the
# transports' own cost with a model that costs ~2 µs.
#
#   bench/serving/grpc_run.sh     (after scripts/setup; trains the models once if
#                                  bench/serving/run.sh has not, ~3 min)
set -euo pipefail
cd "$(dirname "$0")/../.."
B=$PWD/build/bimride
LOADGEN=$PWD/build/bench/grpc_infer_load
W=$PWD/build/bench-serving
G=${BIMRIDE_DATA_DIR:-$PWD/../shared/data}/tlc_green
LUA=$PWD/bench/serving/predict.lua
CORES=$(nproc)
C=16        # connections, every run (wrk -t2 -c16; grpc_infer_load --connections 16)
ROUNDS=${ROUNDS:-5}
SECONDS_PER_RUN=5
for f in "$B" "$LOADGEN"; do
  [[ -x $f ]] || { echo "grpc_run.sh: $f is missing; build it (ninja -C build bimride grpc_infer_load)" >&2; exit 1; }
done
mkdir -p "$W"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
section() { echo; echo "=== $*"; }
load() { echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"; }
cpu_ticks() {  # PID…: user + system clock ticks of these processes and their children so far
  local p all=()
  for p in "$@"; do all+=("$p" $(cat /proc/"$p"/task/*/children 2>/dev/null)); done
  for p in "${all[@]}"; do cat /proc/"$p"/stat 2>/dev/null || true; done |
    awk '{sub(/^.*\) /, ""); t += $12 + $13} END {print t + 0}'
}
cpu_us() {  # TICKS REQUESTS → µs of CPU per request
  awk -v t="$1" -v n="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}'
}
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
# grpc_load PID TARGET MODEL: our load generator; rate in $RATE, p50 in $P50, server CPU per
# request in $CPU, the load generator's own in $CCPU
grpc_load() {
  local before; before=$(cpu_ticks $1)
  "$LOADGEN" --target "$2" --model "$3" --body "$FEATURES" --connections $C \
    --seconds $SECONDS_PER_RUN > "$W/grpc_load.txt" || true
  cat "$W/grpc_load.txt"
  RATE=$(awk '/^grpc requests/ {print $9}' "$W/grpc_load.txt")
  P50=$(awk '/^grpc requests/ {print $12}' "$W/grpc_load.txt")
  CCPU=$(awk '/^grpc requests/ {print $18}' "$W/grpc_load.txt")
  local n; n=$(awk '/^grpc requests/ {print $3}' "$W/grpc_load.txt")
  grep -q "errors 0 " "$W/grpc_load.txt" || { echo "grpc_run.sh: failed requests" >&2; exit 1; }
  CPU=$(cpu_us $(( $(cpu_ticks $1) - before )) "$n"); echo "server CPU: $CPU us per request"
}
# rest_load PID URL: wrk -t2 -c16 with the KServe v2 JSON body (wrk's own CPU time in $CCPU)
rest_load() {
  local before; before=$(cpu_ticks $1)
  BODY=$KSERVE_BODY /usr/bin/time -f "wrk cpu %U %S" -o "$W/wrk_time.txt" \
    wrk -t2 -c$C -d${SECONDS_PER_RUN}s --latency -s "$LUA" "$2" > "$W/wrk.txt"
  grep -E "Requests/sec|non-2xx|latency p50" "$W/wrk.txt"
  if grep -qE "^non-2xx/3xx: [1-9]|socket errors: [1-9]" "$W/wrk.txt"; then
    echo "grpc_run.sh: failed requests" >&2; exit 1
  fi
  RATE=$(awk '/Requests\/sec/ {print int($2)}' "$W/wrk.txt")
  P50=$(awk '/^latency p50/ {print $3}' "$W/wrk.txt")
  local n; n=$(awk '/requests in/ {print $1}' "$W/wrk.txt")
  CPU=$(cpu_us $(( $(cpu_ticks $1) - before )) "$n"); echo "server CPU: $CPU us per request"
  CCPU=$(awk -v n="$n" '/^wrk cpu/ {printf "%.1f", ($3 + $4) * 1e6 / n}' "$W/wrk_time.txt")
  echo "client (wrk) CPU: $CCPU us per request"
}

section "machine and peers"
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(load)"
dpkg-query -W -f='${Package} ${Version}\n' wrk libgrpc++1.51 python3-grpcio python3-torch

# 1. The models: bench/serving/run.sh's with-distance ETA net (model.pt, and the same net as
# native_mlp), trained once.
if [[ ! -f $W/torch/manifest.json ]]; then
  "$B" train eta --train "$G/green_tripdata_2021-01.parquet" --valid "$G/green_tripdata_2021-02.parquet" \
    --model torch --features with-distance --threads 1 --out "$W/torch" --repo "$W/runs" --no-publish \
    > "$W/torch.train.log"
fi
REPO=$W/grpc_repo
rm -rf "$REPO"
"$B" models publish eta --repo "$REPO" --from "$W/torch" > /dev/null                      # torchscript
"$B" models publish eta_native --repo "$REPO" --from "$W/torch" --backend native_mlp --artifact net.json > /dev/null

# 2. Bodies: one feature row (each feature at its training median, as run.sh makes it), as TF
# Serving JSON (the load generator reads it) and as the KServe v2 JSON of the REST run.
FEATURES=$W/body_features.json
KSERVE_BODY=$W/body_kserve.json
/usr/bin/python3 - "$W/torch/manifest.json" "$FEATURES" "$KSERVE_BODY" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
stats = m["feature_stats"]
names = m["properties"]["feature_names"].split(",")
row = [float(stats[n]["quantiles"][4]) for n in names]
json.dump({"instances": [row]}, open(sys.argv[2], "w"))
json.dump({"inputs": [{"name": "features", "datatype": "FP32", "shape": [1, len(row)],
                       "data": row}]}, open(sys.argv[3], "w"))
PY

# 3. The servers, idle until their turn.
"$B" serve --model-repo "$REPO" --port 18182 --grpc-port 18185 --io-threads "$CORES" \
  --poll-interval-ms 0 > "$W/grpc_serve.log" 2>&1 & ours=$!; pids+=("$ours")
/usr/bin/python3 bench/peers/kserve_grpc_server.py --port 18191 --model "$W/torch/model.pt" \
  --workers "$CORES" > "$W/grpc_peer.log" 2>&1 & py=$!; pids+=("$py")
for _ in $(seq 300); do
  grep -q "gRPC on" "$W/grpc_serve.log" 2>/dev/null &&
    [[ $(grep -c "^kserve grpc peer" "$W/grpc_peer.log" 2>/dev/null) == "$CORES" ]] && break
  sleep 0.2
done
section "servers"
cat "$W/grpc_serve.log" | grep -E "listening|gRPC on"
cat "$W/grpc_peer.log"
[[ $(grep -c "torch threads 1$" "$W/grpc_peer.log") == "$CORES" ]] ||
  { echo "grpc_run.sh: expected $CORES peer workers with one torch thread" >&2; exit 1; }
OURS_GRPC=127.0.0.1:18185
PY_GRPC=127.0.0.1:18191
REST=http://127.0.0.1:18182/v2/models
curl -s -XPOST -d @"$KSERVE_BODY" "$REST/eta/infer"; echo
"$LOADGEN" --target $OURS_GRPC --model eta --body "$FEATURES" --connections 1 --seconds 0.2
"$LOADGEN" --target $PY_GRPC --model eta --body "$FEATURES" --connections 1 --seconds 0.2

# 4. Alternating rounds.
declare -A rate cpu p50 ccpu
for k in grpc rest py ngrpc nrest; do rate[$k]=""; cpu[$k]=""; p50[$k]=""; ccpu[$k]=""; done
for round in $(seq "$ROUNDS"); do
  section "round $round ($(load))"
  order="grpc rest py ngrpc nrest"; (( round % 2 == 0 )) && order="nrest ngrpc py rest grpc"
  for who in $order; do
    case $who in
      grpc) echo "- bimride serve, gRPC ModelInfer, eta (torchscript), $C connections"
            grpc_load $ours $OURS_GRPC eta ;;
      rest) echo "- bimride serve, REST POST /v2/models/eta/infer (torchscript), wrk -t2 -c$C"
            rest_load $ours "$REST/eta/infer" ;;
      py) echo "- Python grpcio ($CORES processes) + PyTorch, same model.pt, gRPC ModelInfer, $C connections"
          grpc_load $py $PY_GRPC eta ;;
      ngrpc) echo "- bimride serve, gRPC ModelInfer, eta_native (native_mlp), $C connections"
             grpc_load $ours $OURS_GRPC eta_native ;;
      nrest) echo "- bimride serve, REST /v2/models/eta_native/infer (native_mlp), wrk -t2 -c$C"
             rest_load $ours "$REST/eta_native/infer" ;;
    esac
    rate[$who]+="$RATE "; cpu[$who]+="$CPU "; p50[$who]+="$P50 "; ccpu[$who]+="$CCPU "
  done
done

section "medians of the $ROUNDS rounds: req/s (server CPU, client CPU per request; client p50)"
for k in grpc rest py ngrpc nrest; do
  printf "%-6s %8s req/s (server %s us, client %s us CPU; p50 %s us); rounds: %s\n" "$k" \
    "$(median ${rate[$k]})" "$(median ${cpu[$k]})" "$(median ${ccpu[$k]})" "$(median ${p50[$k]})" \
    "${rate[$k]}"
done
echo "torchscript: our gRPC / our REST $(ratio "$(median ${rate[grpc]})" "$(median ${rate[rest]})")x," \
     "our gRPC / Python grpcio $(ratio "$(median ${rate[grpc]})" "$(median ${rate[py]})")x;" \
     "CPU per request Python / our gRPC $(ratio "$(median ${cpu[py]})" "$(median ${cpu[grpc]})")x," \
     "our gRPC / our REST $(ratio "$(median ${cpu[grpc]})" "$(median ${cpu[rest]})")x"
echo "native_mlp: our gRPC / our REST $(ratio "$(median ${rate[ngrpc]})" "$(median ${rate[nrest]})")x;" \
     "CPU per request our gRPC / our REST $(ratio "$(median ${cpu[ngrpc]})" "$(median ${cpu[nrest]})")x"
curl -s http://127.0.0.1:18182/metrics | grep -E "^bimride_grpc_requests_total" || true
kill -TERM "$ours"; wait "$ours" || true
kill "$py"; wait "$py" 2>/dev/null || true
