#!/usr/bin/env bash
# Demand CLI end to end on a simulated city: backtest demand, train demand (XGBoost and LibTorch,
# published to a registry), forecast from a registry ref and from a version folder; bad input
# gives exit 1 (bad data) or 2 (bad usage) with a one-line error naming the input.
set -u
BIN="$1"
WORK=$(mktemp -d /tmp/demand_cli_test.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fails=0; passes=0
check() {  # check NAME EXPECTED_RC CMD...
  local name="$1" want="$2"; shift 2
  "$@" >"$WORK/out" 2>"$WORK/err"
  local rc=$?
  if [[ "$rc" == "$want" ]]; then passes=$((passes+1)); else
    fails=$((fails+1)); echo "FAIL $name: exit $rc, want $want"; tail -5 "$WORK/err"; fi
}
expect_out() {  # expect_out NAME PATTERN: the last command's stdout matches
  if grep -qE -- "$2" "$WORK/out"; then passes=$((passes+1)); else
    fails=$((fails+1)); echo "FAIL $1: stdout lacks /$2/"; head -20 "$WORK/out"; fi
}
expect_err() {  # expect_err NAME PATTERN: the last command's stderr matches, in one line
  if [[ $(grep -c "^bimride" "$WORK/err") -ge 1 ]] && grep -qE -- "$2" "$WORK/err"; then
    passes=$((passes+1)); else
    fails=$((fails+1)); echo "FAIL $1: stderr lacks /$2/"; cat "$WORK/err"; fi
}

# Three weeks of green-taxi-layout pickups in 12 zones from Monday 2024-03-04 (a daily cycle,
# zone sizes 1..4; deterministic).
TRIPS="$WORK/city.csv"
awk 'BEGIN {
  srand(7);
  print "VendorID,lpep_pickup_datetime,lpep_dropoff_datetime,store_and_fwd_flag,RatecodeID," \
        "PULocationID,DOLocationID,passenger_count,trip_distance,fare_amount,extra,mta_tax," \
        "tip_amount,tolls_amount,ehail_fee,improvement_surcharge,total_amount,payment_type," \
        "trip_type,congestion_surcharge";
  for (d = 0; d < 21; d++) for (h = 0; h < 24; h++) for (z = 1; z <= 12; z++) {
    rate = (z % 4 + 1) * (1.1 + sin((h - 6) * 3.14159 / 12));
    n = int(rate * 2 * rand());
    for (i = 0; i < n; i++) {
      m = int(50 * rand());
      printf "2,2024-03-%02d %02d:%02d:00,2024-03-%02d %02d:%02d:00,N,1,%d,%d,1,2.0,10,0.5,0.5,0,0,,0.3,11.3,1,1,0\n", \
        d + 4, h, m, d + 4, h, m + 9, z, (z % 12) + 1;
    }
  }
}' > "$TRIPS"
REPO="$WORK/repo"
FAST=(--xgb-rounds 20 --torch-epochs 3 --torch-ensemble 1 --valid-days 3 --repo "$REPO")
PERIOD=(--train-begin 2024-03-04 --train-end 2024-03-18)

check "backtest demand" 0 "$BIN" backtest demand --trips "$TRIPS" "${PERIOD[@]}" \
  --test-begin 2024-03-18 --test-end 2024-03-25 --models seasonal_naive historical_average \
  xgboost torch_mlp --out "$WORK/backtest.md" "${FAST[@]}"
expect_out "backtest table" "^\| seasonal_naive \| [0-9.]+ \|"
expect_out "backtest learned rows" "^\| torch_mlp \|"
[[ -s "$WORK/backtest.md" ]] && passes=$((passes+1)) || { fails=$((fails+1)); echo "FAIL no --out"; }

check "train demand xgboost" 0 "$BIN" train demand --trips "$TRIPS" "${PERIOD[@]}" \
  --test-begin 2024-03-18 --test-end 2024-03-25 --model xgboost --label stable "${FAST[@]}"
expect_out "published v1" "published demand version 1 \(xgboost, xgboost\)"
expect_out "test metrics" "test_h1_wape"
check "train demand torch" 0 "$BIN" train demand --trips "$TRIPS" "${PERIOD[@]}" \
  --model torch_mlp "${FAST[@]}"
expect_out "published v2" "published demand version 2 \(torch_mlp, torchscript\)"
check "runs are tracked" 0 "$BIN" runs list --repo "$REPO"
expect_out "demand runs" "demand"

check "forecast stable" 0 "$BIN" forecast --model demand:stable --at "2024-03-20 08:00" \
  --history "$TRIPS" --repo "$REPO"
expect_out "forecast header" "^zone,last_3_buckets,2024-03-20 08:00,2024-03-20 09:00"
rows=$(grep -cE "^[0-9]+," "$WORK/out")
[[ "$rows" -ge 10 ]] && passes=$((passes+1)) || { fails=$((fails+1)); echo "FAIL $rows zone rows"; }
check "forecast by folder, two zones" 0 "$BIN" forecast --model "$REPO/demand/2" \
  --at "2024-03-20 08:30" --history "$TRIPS" --zones 1,2
expect_out "floored to the hour" "^zone,last_3_buckets,2024-03-20 08:00"
[[ $(grep -cE "^[12]," "$WORK/out") == 2 ]] && passes=$((passes+1)) || {
  fails=$((fails+1)); echo "FAIL --zones 1,2"; cat "$WORK/out"; }

# Bad input.
check "forecast bad time" 2 "$BIN" forecast --model demand:stable --at "someday" \
  --history "$TRIPS" --repo "$REPO"
expect_err "names --at" "--at"
check "forecast unknown zone" 1 "$BIN" forecast --model demand:stable --at "2024-03-20 08:00" \
  --history "$TRIPS" --repo "$REPO" --zones 999
expect_err "names the zone" "zone 999"
check "forecast bad zone list" 2 "$BIN" forecast --model demand:stable --at "2024-03-20 08:00" \
  --history "$TRIPS" --repo "$REPO" --zones 1,x
expect_err "names --zones" "--zones: 'x'"
check "forecast missing history" 1 "$BIN" forecast --model demand:stable \
  --at "2024-03-20 08:00" --history "$WORK/nope.csv" --repo "$REPO"
expect_err "names the file" "nope.csv"
check "forecast history too short" 1 "$BIN" forecast --model demand:stable \
  --at "2024-05-20 08:00" --history "$TRIPS" --repo "$REPO"
expect_err "says the week is missing" "does not cover the week before"
check "forecast unknown model" 1 "$BIN" forecast --model eta:stable --at "2024-03-20 08:00" \
  --history "$TRIPS" --repo "$REPO"
expect_err "names the model" "eta"
check "forecast no such folder" 1 "$BIN" forecast --model "$WORK" --at "2024-03-20 08:00" \
  --history "$TRIPS"
expect_err "names the folder" "manifest.json"
check "train a baseline" 2 "$BIN" train demand --trips "$TRIPS" "${PERIOD[@]}" \
  --model seasonal_naive "${FAST[@]}"
expect_err "names --model" "--model"
check "train bad bucket" 2 "$BIN" train demand --trips "$TRIPS" "${PERIOD[@]}" \
  --bucket-minutes 20 "${FAST[@]}"
expect_err "names the bucket" "20 minutes"
check "train bad period" 2 "$BIN" train demand --trips "$TRIPS" --train-begin 2024-03-18 \
  --train-end 2024-03-04 "${FAST[@]}"
check "train missing trips" 1 "$BIN" train demand --trips "$WORK/missing.parquet" "${PERIOD[@]}" \
  "${FAST[@]}"
expect_err "names the trips file" "missing.parquet"
check "backtest needs a test period" 2 "$BIN" backtest demand --trips "$TRIPS" "${PERIOD[@]}" \
  "${FAST[@]}"
check "backtest test before training end" 2 "$BIN" backtest demand --trips "$TRIPS" \
  "${PERIOD[@]}" --test-begin 2024-03-10 --test-end 2024-03-17 "${FAST[@]}"
expect_err "says why" "starts before the training period ends"
check "backtest unknown model" 2 "$BIN" backtest demand --trips "$TRIPS" "${PERIOD[@]}" \
  --test-begin 2024-03-18 --test-end 2024-03-25 --models prophet "${FAST[@]}"
expect_err "names the model" "prophet"
check "backtest bad weather file" 1 "$BIN" backtest demand --trips "$TRIPS" "${PERIOD[@]}" \
  --test-begin 2024-03-18 --test-end 2024-03-25 --weather "$TRIPS" "${FAST[@]}"
expect_err "names the weather file" "city.csv"
check "unknown backtest verb" 2 "$BIN" backtest pricing

echo "$passes passed, $fails failed"
[[ $fails -eq 0 ]]
