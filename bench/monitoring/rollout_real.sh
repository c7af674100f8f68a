#!/usr/bin/env bash
# Progressive rollout on real green trips (#13 item 7; results/monitoring.md quotes its output).
# Stable = XGBoost ETA trained on 2021-01; good candidate = the same recipe on 2022-01; bad
# candidate = that model with every output ×60 (seconds instead of minutes: leaves and base
# score scaled in its XGBoost JSON). The server replays green 2023-01 (bimride replay, labels at
# each trip's dropoff; 30000 trips at 20000× real time, about a minute) while `bimride rollout start … --wait` runs; the replay counts failures.
#   bench/monitoring/rollout_real.sh [BUILD_DIR]     (from the checkout; ~3 minutes)
set -euo pipefail
BUILD=${1:-build}
B=$(realpath "$BUILD/bimride")
G=${BIMRIDE_DATA_DIR:-$(realpath ../shared/data 2>/dev/null || echo /work/shared/data)}/tlc_green
W=$(mktemp -d /tmp/rollout_real.XXXX)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$W"' EXIT
R=$W/repo
train() {  # month valid out
  "$B" train eta --train "$G/green_tripdata_$1.parquet" --valid "$G/green_tripdata_$2.parquet" \
    --model xgboost --features booking --rounds 80 --threads 1 --repo "$R" --out "$W/$3" \
    --drift-window-rows 200 > "$W/$3.log" 2>&1
  grep "best round" "$W/$3.log"
}
train 2021-01 2021-02 v1
train 2022-01 2022-02 v2
"$B" models promote eta 1 --label stable --why "trained on 2021-01" --repo "$R" >/dev/null
cp -r "$W/v2" "$W/v3"
/usr/bin/python3 - "$W/v2/model.json" "$W/v3/model.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
p = m["learner"]["learner_model_param"]
p["base_score"] = repr(float(p["base_score"]) * 60)
for t in m["learner"]["gradient_booster"]["model"]["trees"]:
    for i, c in enumerate(t["left_children"]):
        if c == -1:
            t["split_conditions"][i] *= 60
            t["base_weights"][i] *= 60
json.dump(m, open(sys.argv[2], "w"))
PY
"$B" models publish eta --from "$W/v3" --repo "$R" >/dev/null
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$B" serve --model-repo "$R" --port "$PORT" --prediction-log "$W/log" --monitor-window-rows 200 \
  --poll-interval-ms 1000 > "$W/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 100); do curl -sf "localhost:$PORT/v1/models/eta" >/dev/null && break; sleep 0.2; done
rollout() {  # candidate skip
  "$B" replay eta --data "$G/green_tripdata_2023-01.parquet" --port "$PORT" --speedup 20000 \
    --skip "$2" --limit 30000 > "$W/replay$1.log" 2>&1 &
  local replay=$!
  sleep 2
  local rc=0
  "$B" rollout start eta --server "127.0.0.1:$PORT" --candidate "$1" --step 25 --max 50 \
    --interval 10s --threshold 2 --wait || rc=$?
  wait $replay
  echo "rollout of version $1 exit code $rc; replay during it:"
  cat "$W/replay$1.log"
}
rollout 2 0
# Back to the 2021-01 model as stable (when the good candidate was promoted) for the bad run.
"$B" models promote eta 1 --label stable --why "back to 2021-01 for the bad-candidate run" \
  --repo "$R" >/dev/null 2>&1 || true
curl -s -XPOST "localhost:$PORT/v2/repository/models/eta/load" >/dev/null || true
sleep 2
rollout 3 30000
echo "audit log (label canary, stable):"
"$B" models history eta --repo "$R"
curl -s "localhost:$PORT/metrics" | grep '^bimride_rollout' || true
