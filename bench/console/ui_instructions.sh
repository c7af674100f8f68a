#!/usr/bin/env bash
# Instructions per predict request, console on vs --no-ui (#18, BENCHMARKS.md "Web console").
# CPU time per request moves with the machine (other jobs, how the scheduler shares the cores
# between wrk and the server); the number of instructions a request executes does not. Each
# server runs under valgrind's callgrind (this VM has no hardware counters for `perf stat`), is
# warmed with 5 s of the serving benchmark's batch-1 predict (bench/serving/predict.lua, the
# model files and body of bench/console/ui_cost.sh), has its counters zeroed, serves SECONDS of
# wrk -t1 -c4, and is dumped: instructions (Ir) of all its threads over that window / requests
# answered. Servers alternate ui, no-ui, ROUNDS times.
#
#   ROUNDS=2 SECONDS_PER_ROUND=20 bench/console/ui_instructions.sh   (after bench/console/ui_cost.sh
#                                                                     made build/bench-console)
set -euo pipefail
cd "$(dirname "$0")/../.."
B=$PWD/build/bimride
W=$PWD/build/bench-console
ROUNDS=${ROUNDS:-2}
SECS=${SECONDS_PER_ROUND:-20}
for f in "$B" "$W/repo" "$W/body_raw.json"; do
  [[ -e $f ]] || { echo "ui_instructions.sh: $f is missing (build, then run bench/console/ui_cost.sh once)" >&2; exit 1; }
done
command -v valgrind > /dev/null || { echo "ui_instructions.sh: needs valgrind" >&2; exit 1; }
OUT=$(mktemp -d /tmp/ui-instructions.XXXX)
vp=""
trap '[[ -n $vp ]] && kill "$vp" 2>/dev/null; rm -rf "$OUT"' EXIT
export BODY=$W/body_raw.json
one() {  # NAME [serve flags…]: prints instructions per request
  local name=$1; shift
  local dir=$OUT/$name.$round port=""
  mkdir -p "$dir"
  valgrind --tool=callgrind --callgrind-out-file="$dir/cg.%p" "$B" serve --model-repo "$W/repo" \
    --port 0 --io-threads 2 --poll-interval-ms 0 "$@" > "$dir/log" 2>&1 &
  vp=$!
  for _ in $(seq 600); do
    port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$dir/log" | head -1 | cut -d: -f2 || true)
    [[ -n $port ]] && break
    sleep 0.5
  done
  [[ -n $port ]] || { echo "ui_instructions.sh: $name did not start" >&2; cat "$dir/log" >&2; exit 1; }
  local url=http://127.0.0.1:$port/v1/models/eta_trees:predict
  wrk -t1 -c4 -d5s -s bench/serving/predict.lua "$url" > "$dir/warm.txt"
  callgrind_control -z "$vp" > /dev/null 2>&1
  wrk -t1 -c4 -d"${SECS}s" -s bench/serving/predict.lua "$url" > "$dir/wrk.txt"
  callgrind_control -d "$vp" > /dev/null 2>&1
  kill "$vp"; wait "$vp" 2>/dev/null || true; vp=""
  grep -q "non-2xx/3xx: 0, socket errors: 0" "$dir/wrk.txt" || { cat "$dir/wrk.txt" >&2; exit 1; }
  local req ir
  req=$(awk '/requests in/ {print $1}' "$dir/wrk.txt")
  ir=$(callgrind_annotate "$dir"/cg.*.1 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
  printf "  %-6s %7d requests  %12d instructions  %9.0f per request\n" "$name" "$req" "$ir" \
    "$(awk -v a="$ir" -v b="$req" 'BEGIN {print a / b}')"
  PER[$name]+="$(awk -v a="$ir" -v b="$req" 'BEGIN {printf "%.0f", a / b}') "
}
declare -A PER=()
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(git log -1 --format=%h), $ROUNDS rounds of ${SECS}s under callgrind"
for round in $(seq "$ROUNDS"); do
  echo "round $round"
  one ui; one no-ui --no-ui
done
mean() { printf '%s\n' "$@" | awk '{s += $1} END {printf "%.0f", s / NR}'; }
echo "instructions per request: ui $(mean ${PER[ui]}), no-ui $(mean ${PER[no-ui]}),"\
  "no-ui / ui $(awk -v a="$(mean ${PER[no-ui]})" -v b="$(mean ${PER[ui]})" 'BEGIN {printf "%.5f", a / b}')"
