#!/usr/bin/env bash
# `bimride bench frameworks --quick` end to end (the simulated city; ~1–2 min): both report
# files are written, every engine row of every table is filled with figures or says
# "not available: <reason>", the HTML has its inline SVG charts and no script, and bad flags
# are refused.
# Usage: bench_frameworks_test.sh path/to/bimride
set -euo pipefail
BIMRIDE="$1"
DIR=$(mktemp -d /tmp/bench_frameworks_test.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$BIMRIDE" bench frameworks --quick --out "$DIR/report" --work "$DIR/work" > "$DIR/out.txt" 2> "$DIR/err.txt" ||
  { cat "$DIR/err.txt" >&2; fail "bench frameworks --quick exited with $?"; }
MD="$DIR/report/frameworks.md"
HTML="$DIR/report/frameworks.html"
[[ -s "$MD" && -s "$HTML" ]] || fail "report files missing"

# Engine rows: table rows that are not headers or separators.
rows=$(grep -E '^\| ' "$MD" | grep -vE '^\| engine |^\|---' || true)
[[ $(wc -l <<< "$rows") -ge 36 ]] || fail "expected 2 workloads × 18 engine rows, got: $rows"
while IFS= read -r row; do
  if grep -q 'not available: ' <<< "$row"; then
    grep -qE 'not available: [^ |]' <<< "$row" || fail "unavailable without a reason: $row"
    continue
  fi
  # Every figure cell (after the engine and version/model cells) is a number.
  cells=$(awk -F'|' '{for (i = 4; i < NF; ++i) print $i}' <<< "$row")
  while IFS= read -r c; do
    c="${c// /}"
    [[ "$c" =~ ^-?[0-9][0-9,]*(\.[0-9]+)?×?$ ]] || fail "empty or non-numeric cell '$c' in: $row"
  done <<< "$cells"
done <<< "$rows"
# The engines the issue names are all rows of the report.
for engine in "LibTorch eager" "TorchScript" "native_mlp" "XGBoost C API" "native_trees" \
              "onnx backend" "Python PyTorch eager" "Python torch.jit" "Python XGBoost" \
              "ONNX Runtime 1.30" "TensorFlow.js 4.22"; do
  grep -q "| $engine" "$MD" || fail "no row for $engine"
done
# Every engine ran here (scripts/setup installs the peers).
n_unavailable=$(grep -c 'not available: ' "$MD" || true)
[[ "$n_unavailable" -eq 0 ]] || { grep 'not available' "$MD" >&2; fail "$n_unavailable rows not available"; }
grep -q 'max relative error' "$MD" || fail "no parity lines"
grep -q '## The answer' "$MD" || fail "no answer"
grep -q '<svg' "$HTML" || fail "no SVG chart"
! grep -q '<script' "$HTML" || fail "HTML has a script"

# Bad input: an unknown flag is a usage error; a checkout without the peers is refused.
set +e
"$BIMRIDE" bench frameworks --no-such-flag > /dev/null 2>&1; rc=$?
[[ $rc -eq 2 ]] || fail "unknown flag: exit $rc, expected 2"
"$BIMRIDE" bench frameworks --quick --source-dir "$DIR" --out "$DIR/x" 2> "$DIR/err2.txt"; rc=$?
[[ $rc -eq 1 ]] && grep -q "not a BimRide checkout" "$DIR/err2.txt" || fail "bad --source-dir: exit $rc"
"$BIMRIDE" bench engine --engine nope --workload "$DIR" --out "$DIR/y" 2> "$DIR/err3.txt"; rc=$?
[[ $rc -ne 0 ]] && grep -q "not one of" "$DIR/err3.txt" || fail "bad --engine: exit $rc"
echo "PASS"
