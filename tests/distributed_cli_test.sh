#!/usr/bin/env bash
# Data-parallel training as a user runs it: `bimride train eta|demand … --nproc 2` and Debian's
# `torchrun --no_python` give the model of one process with the same (global) batch, to float
# rounding (weights compared with python3-torch, validation RMSE as printed); a killed rank
# ends the job with an error naming it and leaves no process behind.
# Usage: distributed_cli_test.sh BIMRIDE   (needs the shared zone shapefile: label data)
set -u
BIN="$1"
SRC="$(cd "$(dirname "$0")/.." && pwd)"
WORK=$(mktemp -d /tmp/distributed_cli_test.XXXXXX)
trap '[[ -n "${KEEP:-}" ]] || rm -rf "$WORK"' EXIT
mkdir -p "$WORK/tmp"
export TMPDIR="$WORK/tmp"  # the ranks' scratch folders
fails=0; passes=0
ok() { passes=$((passes+1)); }
fail() { fails=$((fails+1)); echo "FAIL $*"; }
run() {  # run NAME WANT_RC CMD...: output in $WORK/NAME.log
  local name="$1" want="$2"; shift 2
  "$@" >"$WORK/$name.log" 2>&1
  local rc=$?
  if [[ "$rc" == "$want" ]]; then ok; else fail "$name: exit $rc, want $want"; tail -15 "$WORK/$name.log"; fi
}
same_weights() {  # same_weights NAME A.pt B.pt: every tensor within 2e-4, and some tensor differs from C.pt
  if /usr/bin/python3 - "$2" "$3" <<'PY'
import sys, torch
a = torch.jit.load(sys.argv[1]).state_dict(); b = torch.jit.load(sys.argv[2]).state_dict()
assert a.keys() == b.keys(), (a.keys(), b.keys())
d = max(float((a[k] - b[k]).abs().max()) for k in a)
print("max weight difference", d)
sys.exit(0 if d < 2e-4 else 1)
PY
  then ok; else fail "$1: weights differ ($2 vs $3)"; fi
}
rmse_line() { grep -E "^epoch|valid_loss" "$1" | tail -1 | grep -oE "rmse [0-9.]+"; }

ETA=(train eta --train "$SRC/tests/data/green_2021-01_eta_sample.csv"
     --valid "$SRC/tests/data/green_2021-02_eta_sample.csv" --weather none --model torch
     --epochs 3 --batch-size 256 --threads 1 --no-publish --repo "$WORK/repo")
run eta_one 0 "$BIN" "${ETA[@]}" --out "$WORK/eta_one"
run eta_nproc 0 "$BIN" "${ETA[@]}" --out "$WORK/eta_nproc" --nproc 2
grep -q "2 ranks (all-reduce wait" "$WORK/eta_nproc.log" && ok || fail "eta --nproc 2: no '2 ranks' in the summary"
same_weights "eta --nproc 2" "$WORK/eta_one/model.pt" "$WORK/eta_nproc/model.pt"
[[ "$(rmse_line "$WORK/eta_one.log")" == "$(rmse_line "$WORK/eta_nproc.log")" ]] && ok ||
  fail "eta validation rmse: $(rmse_line "$WORK/eta_one.log") vs $(rmse_line "$WORK/eta_nproc.log")"
# Only rank 0 writes the model folder: the other rank removed its scratch folder.
[[ -z "$(ls -A "$WORK/tmp")" ]] && ok || fail "a rank's scratch folder was left: $(ls "$WORK/tmp")"

if command -v torchrun >/dev/null; then
  PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  # torch 1.13 on Python 3.11: -r 1 -t 1 (see TOOLCHAIN.md); the agent hosts the store.
  run eta_torchrun 0 torchrun -r 1 -t 1 --log_dir "$WORK/torchrun_logs" --nnodes 1 \
    --nproc_per_node 2 --master_addr 127.0.0.1 --master_port "$PORT" --no_python \
    "$BIN" "${ETA[@]}" --out "$WORK/eta_torchrun"
  same_weights "eta under torchrun" "$WORK/eta_one/model.pt" "$WORK/eta_torchrun/model.pt"
else
  echo "SKIP torchrun: not installed (python3-torch)"
fi

# XGBoost through its collective (rabit) and tracker: 2 ranks, rows sharded, rank 0 publishes.
XGB=(train eta --train "$SRC/tests/data/green_2021-01_eta_sample.csv"
     --valid "$SRC/tests/data/green_2021-02_eta_sample.csv" --weather none --model xgboost
     --rounds 20 --threads 1 --no-publish --repo "$WORK/repo")
run eta_xgb_nproc 0 "$BIN" "${XGB[@]}" --out "$WORK/eta_xgb" --nproc 2
[[ -s "$WORK/eta_xgb/model.json" ]] && ok || fail "eta xgboost --nproc 2 wrote no model"
[[ -z "$(ls -A "$WORK/tmp")" ]] && ok || fail "a rank's scratch folder was left: $(ls "$WORK/tmp")"

# A killed XGBoost worker (rank 1, after round 10): rank 0 fails at its next all-reduce, the
# launcher names rank 1 and how far it got, and no rank or tracker survives.
BIMRIDE_FAULT=1:10:kill run eta_xgb_killed 137 "$BIN" "${XGB[@]}" --out "$WORK/eta_xgb_killed" --nproc 2 --dist-timeout 5
grep -q "launch: failed: rank 1 was killed by signal 9 (Killed) (last progress: step 9," "$WORK/eta_xgb_killed.log" && ok ||
  { fail "launcher did not name the killed xgboost rank 1"; cat "$WORK/eta_xgb_killed.log"; }
secs=$(grep -oE "every rank stopped [0-9.]+ s" "$WORK/eta_xgb_killed.log" | grep -oE "[0-9.]+")
[[ -n "$secs" ]] && awk "BEGIN { exit !($secs < 5) }" && ok || fail "xgboost killed rank: the job took '$secs' s to stop (timeout 5 s)"
pgrep -f "$WORK/eta_xgb_killed" >/dev/null && fail "an xgboost rank outlived the job" || ok
rm -rf "$WORK/tmp"/*  # the killed rank's scratch folder

# XGBoost: a job whose rank 1 died after round 12 restarts from rank 0's checkpoint of round 10
# and ends with the trees of the uninterrupted 2-rank run (without row and column sampling:
# XGBoost's random state is not in its model).
XCK=(--checkpoint-dir "$WORK/xck" --checkpoint-every 5 --nproc 2 --subsample 1 --colsample 1)
run eta_xgb_whole 0 "$BIN" "${XGB[@]}" --out "$WORK/eta_xgb_whole" --nproc 2 --subsample 1 --colsample 1
BIMRIDE_FAULT=1:12:exit run eta_xgb_crashed 3 "$BIN" "${XGB[@]}" --out "$WORK/eta_xgb_resumed" "${XCK[@]}"
run eta_xgb_resumed 0 "$BIN" "${XGB[@]}" --out "$WORK/eta_xgb_resumed" "${XCK[@]}"
grep -q "resumed at round 10" "$WORK/eta_xgb_resumed.log" && ok || { fail "xgboost did not resume at round 10"; tail -5 "$WORK/eta_xgb_resumed.log"; }
if /usr/bin/python3 - "$WORK/eta_xgb_whole/model.json" "$WORK/eta_xgb_resumed/model.json" <<'PY'
import json, sys
t = [json.load(open(f))["learner"]["gradient_booster"]["model"]["trees"] for f in sys.argv[1:]]
assert len(t[0]) == len(t[1]) > 0, (len(t[0]), len(t[1]))
for a, b in zip(*t):
    assert a["split_indices"] == b["split_indices"]
    assert max(abs(x - y) for x, y in zip(a["split_conditions"], b["split_conditions"])) < 1e-5
PY
then ok; else fail "xgboost resumed trees differ from the uninterrupted run's"; fi
rm -rf "$WORK/tmp"/*

# A job that died at step 7 restarts from rank 0's checkpoint of step 6 and ends with the net of
# the uninterrupted run (5 steps an epoch, 3 epochs).
CK=(--checkpoint-dir "$WORK/ck" --checkpoint-every 2 --nproc 2)
BIMRIDE_FAULT=1:7:exit run eta_crashed 3 "$BIN" "${ETA[@]}" --out "$WORK/eta_resumed" "${CK[@]}"
[[ -f "$WORK/ck/checkpoint_fit_m0.pt" ]] && ok || fail "no checkpoint in $WORK/ck: $(ls "$WORK/ck")"
run eta_resumed 0 "$BIN" "${ETA[@]}" --out "$WORK/eta_resumed" "${CK[@]}"
grep -q "resumed at step 6" "$WORK/eta_resumed.log" && ok || fail "eta did not resume at step 6"
same_weights "eta resumed" "$WORK/eta_nproc/model.pt" "$WORK/eta_resumed/model.pt"
rm -rf "$WORK/tmp"/*  # the crashed rank's scratch folder

# A killed rank: the job stops with an error naming it (rank 0 within the timeout; the
# launcher reports the killed rank), and no rank survives.
start=$(date +%s)
BIMRIDE_FAULT=1:3:kill run eta_killed 137 "$BIN" "${ETA[@]}" --out "$WORK/eta_killed" --nproc 2 --dist-timeout 5
grep -q "rank 1 was killed by signal 9" "$WORK/eta_killed.log" && ok || { fail "launcher did not name rank 1"; cat "$WORK/eta_killed.log"; }
grep -qE "rank 1 .*stopped: no heartbeat" "$WORK/eta_killed.log" && ok || { fail "rank 0 did not name rank 1"; cat "$WORK/eta_killed.log"; }
(( $(date +%s) - start < 20 )) && ok || fail "killed rank: took $(( $(date +%s) - start )) s with a 5 s timeout"
pgrep -f "$WORK/eta_killed" >/dev/null && fail "a rank outlived the job" || ok

# Demand (the LibTorch MLP, Poisson, 6 horizons) on a simulated city: fit + refit, ranks 1 vs 2.
TRIPS="$WORK/city.csv"
awk 'BEGIN {
  srand(7);
  print "VendorID,lpep_pickup_datetime,lpep_dropoff_datetime,store_and_fwd_flag,RatecodeID," \
        "PULocationID,DOLocationID,passenger_count,trip_distance,fare_amount,extra,mta_tax," \
        "tip_amount,tolls_amount,ehail_fee,improvement_surcharge,total_amount,payment_type," \
        "trip_type,congestion_surcharge";
  for (d = 0; d < 14; d++) for (h = 0; h < 24; h++) for (z = 1; z <= 12; z++) {
    n = int((z % 4 + 1) * (1.1 + sin((h - 6) * 3.14159 / 12)) * 2 * rand());
    for (i = 0; i < n; i++) {
      m = int(50 * rand());
      printf "2,2024-03-%02d %02d:%02d:00,2024-03-%02d %02d:%02d:00,N,1,%d,%d,1,2.0,10,0.5,0.5,0,0,,0.3,11.3,1,1,0\n", \
        d + 4, h, m, d + 4, h, m + 9, z, (z % 12) + 1;
    }
  }
}' > "$TRIPS"
DEMAND=(train demand --trips "$TRIPS" --train-begin 2024-03-04 --train-end 2024-03-18
        --model torch_mlp --torch-epochs 3 --torch-ensemble 1 --torch-batch 256 --valid-days 3
        --threads 1 --target-shrink 0)
run demand_one 0 "$BIN" "${DEMAND[@]}" --repo "$WORK/demand_one"
run demand_nproc 0 "$BIN" "${DEMAND[@]}" --repo "$WORK/demand_nproc" --nproc 2
same_weights "demand --nproc 2" "$WORK/demand_one/demand/1/model/model.pt" "$WORK/demand_nproc/demand/1/model/model.pt"
[[ ! -d "$WORK/demand_nproc/demand/2" ]] && ok || fail "demand: a rank other than 0 published"

echo "$passes passed, $fails failed"
[[ "$fails" == 0 ]]
