#!/usr/bin/env bash
# Behaviour CLI end to end: simulate a city with a price test, train behaviour (conversion and
# retention, published to a registry, tracked runs), eval behaviour (the report); bad input gives exit 1 (bad data) or 2
# (bad usage) with a one-line error naming the input.
set -u
BIN="$1"
WORK=$(mktemp -d /tmp/behaviour_cli_test.XXXXXX)
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
expect_err() {  # expect_err NAME PATTERN: the last command's stderr matches
  if grep -qE -- "$2" "$WORK/err"; then passes=$((passes+1)); else
    fails=$((fails+1)); echo "FAIL $1: stderr lacks /$2/"; cat "$WORK/err"; fi
}
REPO="$WORK/repo"

check "simulate with a price test" 0 "$BIN" simulate --days 12 --zones 10 --price-test 0.3 \
  --out "$WORK/city.csv"
if head -1 "$WORK/city.requests.csv" | grep -q "surge_raw,price_multiplier"; then
  passes=$((passes+1)); else fails=$((fails+1)); echo "FAIL requests.csv lacks the test columns"; fi
check "train behaviour" 0 "$BIN" train behaviour --city "$WORK/city.csv" --train-days 8 \
  --valid-days 2 --threads 1 --repo "$REPO" --work-dir "$WORK/models"
expect_out "scores the baselines" "logistic_price"
expect_out "publishes" "published conversion version 1"
[[ -f "$REPO/conversion/1/rider_features.csv" ]] && passes=$((passes+1)) ||
  { fails=$((fails+1)); echo "FAIL the version lacks rider_features.csv"; }
check "train behaviour --target retention" 0 "$BIN" train behaviour --city "$WORK/city.csv" \
  --target retention --horizon-days 3 --cutoff-step-days 2 --first-cutoff-day 2 --test-cutoffs 1 \
  --threads 1 --repo "$REPO" --work-dir "$WORK/models_retention"
expect_out "scores the retention baselines" "logistic_recency"
expect_out "and the calibrated model" "xgboost\+isotonic"
expect_out "publishes retention" "published retention version 1"
[[ -f "$REPO/retention/1/retention_features.csv" ]] && passes=$((passes+1)) ||
  { fails=$((fails+1)); echo "FAIL the retention version lacks retention_features.csv"; }
grep -q '"behaviour_retention"' "$REPO/retention/1/manifest.json" && passes=$((passes+1)) ||
  { fails=$((fails+1)); echo "FAIL the retention manifest lacks its feature spec"; }
# --param NAME=VALUE reaches the --model's trainer and the tracked run's params.
check "retention with a trainer parameter" 0 "$BIN" train behaviour --city "$WORK/city.csv" \
  --target retention --horizon-days 3 --cutoff-step-days 2 --first-cutoff-day 2 --test-cutoffs 1 \
  --threads 1 --repo "$REPO" --work-dir "$WORK/models_retention_param" --no-publish --param rounds=7
PARAM_RUN=$(sed -n 's/^run \([0-9a-f]*\):.*/\1/p' "$WORK/out")
check "runs show the parameter's run" 0 "$BIN" runs show "$PARAM_RUN" --repo "$REPO"
expect_out "records the trainer parameter" "xgboost\.rounds +7"
expect_out "and the design's others (fifth attempt)" "xgboost\.min_child_weight +100"
expect_out "lambda too" "xgboost\.lambda +10"
check "train a bad trainer parameter" 1 "$BIN" train behaviour --city "$WORK/city.csv" \
  --target retention --horizon-days 3 --cutoff-step-days 2 --first-cutoff-day 2 --test-cutoffs 1 \
  --threads 1 --repo "$REPO" --work-dir "$WORK/models_retention_bad" --no-publish \
  --param max_depth=deep
expect_err "names the parameter" "max_depth"
check "train --param without a value" 2 "$BIN" train behaviour --city "$WORK/city.csv" \
  --param eta --repo "$REPO"
expect_err "names the argument" "'eta'"
check "train unknown target" 2 "$BIN" train behaviour --city "$WORK/city.csv" --target churn \
  --repo "$REPO"
expect_err "names the target" "'churn'"
check "retention on a city too short" 1 "$BIN" train behaviour --city "$WORK/city.csv" \
  --target retention --repo "$REPO" --work-dir "$WORK/models_retention2"
expect_err "says why" "12 days has no cut-off day with 28 days after it"
check "runs list" 0 "$BIN" runs list --repo "$REPO"
expect_out "the run is tracked" "behaviour"
check "eval behaviour" 0 "$BIN" eval behaviour --seeds 3 --days 14 --zones 10 --no-torch \
  --retention-days 0 --threads 1 --out "$WORK/report.md" --work-dir "$WORK/eval"
grep -q "## Elasticity of conversion to price" "$WORK/report.md" && passes=$((passes+1)) ||
  { fails=$((fails+1)); echo "FAIL report lacks the elasticity section"; }

check "train unknown model" 2 "$BIN" train behaviour --city "$WORK/city.csv" --model lightgbm \
  --repo "$REPO"
expect_err "names the model" "lightgbm"
check "train missing city" 1 "$BIN" train behaviour --city "$WORK/missing.csv" --repo "$REPO"
expect_err "names the file" "missing.csv"
check "train a city too short to split" 1 "$BIN" train behaviour --city "$WORK/city.csv" \
  --train-days 12 --repo "$REPO" --work-dir "$WORK/models2"
expect_err "says why" "cannot split"
check "eval bad seeds" 2 "$BIN" eval behaviour --seeds 1,x
expect_err "names the seed" "'x'"
# A retention design the retention city cannot hold is refused before any city is simulated.
check "eval retention design too long" 1 "$BIN" eval behaviour --seeds 3 --days 14 --zones 10 \
  --no-torch --retention-days 200 --threads 1 --work-dir "$WORK/eval2"
expect_err "says why" "fewer than two training cut-offs .*simulate more days"
if grep -q "quotes in" "$WORK/err"; then
  fails=$((fails+1)); echo "FAIL eval simulated a city before refusing the retention design"
else passes=$((passes+1)); fi
check "eval unknown rider start" 2 "$BIN" eval behaviour --seeds 3 --retention-rider-start old
expect_err "names the value" "--retention-rider-start: .*'old'"
check "simulate a stationary city" 0 "$BIN" simulate --days 3 --zones 5 --rider-start stationary \
  --out "$WORK/stationary.csv"
# Riders present on day 0 joined before it; a settled population has riders older than the
# newcomer start's 365 days (commuters stay for years).
if awk -F, 'NR > 1 && $6 < -365 { found = 1 } END { exit !found }' "$WORK/stationary.riders.csv"; then
  passes=$((passes+1)); else fails=$((fails+1)); echo "FAIL no stationary rider older than a year"; fi
check "simulate unknown rider start" 2 "$BIN" simulate --days 2 --zones 5 --rider-start old \
  --out "$WORK/bad.csv"
expect_err "names the value" "--rider-start: .*'old'"
check "simulate bad price test" 1 "$BIN" simulate --days 2 --zones 5 --price-test 1.5 \
  --out "$WORK/bad.csv"
expect_err "names the field" "price test fraction"

echo "$passes passed, $fails failed"
[[ $fails -eq 0 ]]
