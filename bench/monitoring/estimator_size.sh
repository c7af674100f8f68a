#!/usr/bin/env bash
# How many trees the loss estimator needs (results/monitoring.md, "The loss estimator's size"):
# the logging benchmark's ETA model (green 2021-01, validated on 2021-02, with distance, 300
# rounds) trained once with the estimator uncapped (--loss-estimator-max-rounds 500); then for
# each K the same version with its estimator cut to its first K trees — what a cap of K rounds
# publishes, since boosting adds trees in order and early stopping kept improving past them —
# served with the prediction log on; the first 42,000 trips of 2021-03 (the next month, not seen
# by the model or the estimator) replayed with their labels; and the monitor's closed windows of
# 1000 scored: the anchored estimate (what `monitor status` shows as EST RMSE) and the raw one
# within 15% of the realised RMSE, and their mean relative error.
#
#   bench/monitoring/estimator_size.sh [K ...]   (default: 25 50 100 150 500; after building)
set -euo pipefail
cd "$(dirname "$0")/../.."
B=$PWD/build/bimride
W=$PWD/build/bench-estimator-size
G=${BIMRIDE_DATA_DIR:-$PWD/../shared/data}/tlc_green
sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(25 50 100 150 500)
[[ -x $B ]] || { echo "estimator_size.sh: $B is missing; build it" >&2; exit 1; }
mkdir -p "$W"
pid=""
trap '[[ -n $pid ]] && kill "$pid" 2>/dev/null || true' EXIT
if [[ ! -f $W/uncapped/manifest.json ]]; then
  "$B" train eta --train "$G/green_tripdata_2021-01.parquet" --valid "$G/green_tripdata_2021-02.parquet" \
    --model xgboost --features with-distance --rounds 300 --threads 1 --loss-estimator-max-rounds 500 \
    --out "$W/uncapped" --repo "$W/runs" --no-publish > "$W/train.log"
fi
grep "loss estimator" "$W/train.log" || true
port=18350
for k in "${sizes[@]}"; do
  d=$W/k$k
  rm -rf "$d"
  mkdir -p "$d"
  cp -r "$W/uncapped" "$d/version"
  python3 bench/monitoring/estimator_size.py cut "$W/uncapped/loss_model.json" "$d/version/loss_model.json" "$k"
  "$B" models publish eta --repo "$d/repo" --from "$d/version" > /dev/null
  "$B" serve --model-repo "$d/repo" --port "$port" --io-threads 2 --poll-interval-ms 0 \
    --prediction-log "$d/log" > "$d/serve.log" 2>&1 & pid=$!
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
  "$B" replay eta --data "$G/green_tripdata_2021-03.parquet" --port "$port" --limit 42000 > "$d/replay.log"
  sleep 2  # the last labels join
  curl -s "http://127.0.0.1:$port/v1/monitor" > "$d/monitor.json"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  python3 bench/monitoring/estimator_size.py score "$d/monitor.json" "$k"
  port=$((port + 1))
done
