#!/usr/bin/env bash
# Replicas behind nginx, end to end: two `bimride serve` replicas of one model repository behind
# nginx (deploy/nginx/nginx.conf), wrk sending predictions through nginx the whole time, and
# deploy/rolling-update.sh moving both replicas from version 1 to version 2 of the model one at a
# time. Passes when wrk saw 0 failed requests (non-2xx and socket errors), both replicas serve
# version 2 at the end, and the balancer answered throughout. Prints the numbers
# (BENCHMARKS.md "Rolling update through nginx").
#   tests/rolling_update_e2e_test.sh BUILD/bimride [SECONDS]
set -u
BIN="$1"
DURATION="${2:-20}"
DRAIN_MODE="${3:-server}"  # server or reload (deploy/rolling-update.sh)
SRC="$(cd "$(dirname "$0")/.." && pwd)"
for tool in nginx wrk curl /usr/bin/python3; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing (scripts/setup installs it)"; exit 1; }
done
W=$(mktemp -d /tmp/rolling_update_test.XXXXXX)
pids=()
cleanup() {
  [[ -f $W/nginx/nginx.pid ]] && nginx -p "$W/nginx" -c "$W/nginx/nginx.conf" -s stop 2>/dev/null
  for f in "$W"/replica-*.pid; do [[ -f $f ]] && kill "$(cat "$f")" 2>/dev/null; done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  [[ -n ${KEEP:-} ]] && echo "kept $W" || rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Two versions of a small XGBoost model (4 numeric inputs), version 1 published.
/usr/bin/python3 - "$W" <<'PY' || fail "making the models"
import sys, numpy as np, xgboost as xgb
rng = np.random.default_rng(1)
X = rng.normal(size=(2000, 4)).astype(np.float32)
y = X @ np.array([1, 2, 3, 4]) + 0.1
for v, rounds in ((1, 20), (2, 40)):
    b = xgb.train({"max_depth": 4, "nthread": 1}, xgb.DMatrix(X, label=y), rounds)
    b.save_model(f"{sys.argv[1]}/m{v}.json")
PY
REPO="$W/repo"
"$BIN" models publish --repo "$REPO" --task eta --backend xgboost eta "$W/m1.json" >/dev/null ||
  fail "publish v1"

# The replicas: no polling, so the served version changes only at a (rolling) restart.
cat > "$W/replica.sh" <<SH
#!/usr/bin/env bash
# replica.sh PORT: (re)start the replica on PORT: SIGTERM the running one, wait for it to drain
# and exit, start the new one, return once it listens.
port=\$1; pidf="$W/replica-\$port.pid"
if [[ -f \$pidf ]]; then
  old=\$(cat "\$pidf"); kill -TERM "\$old" 2>/dev/null
  while kill -0 "\$old" 2>/dev/null; do sleep 0.05; done
fi
"$BIN" serve --model-repo "$REPO" --port "\$port" --poll-interval-ms 0 --io-threads 2 \
  >>"$W/replica-\$port.log" 2>&1 &
echo \$! > "\$pidf"
for _ in \$(seq 200); do
  curl -s -o /dev/null "http://127.0.0.1:\$port/v2/health/live" && exit 0; sleep 0.05
done
echo "replica \$port did not start" >&2; exit 1
SH
chmod +x "$W/replica.sh"
P1=$(free_port); P2=$(free_port)
while [[ $P2 == "$P1" ]]; do P2=$(free_port); done
"$W/replica.sh" "$P1" || fail "replica $P1"
"$W/replica.sh" "$P2" || fail "replica $P2"

# nginx in front, with the shipped config.
mkdir -p "$W/nginx/tmp"
cp "$SRC/deploy/nginx/nginx.conf" "$W/nginx/"
LB=$(free_port)
echo "listen 127.0.0.1:$LB;" > "$W/nginx/listen.conf"
printf 'server 127.0.0.1:%s max_fails=0;\nserver 127.0.0.1:%s max_fails=0;\n' "$P1" "$P2" > "$W/nginx/upstream.conf"
nginx -p "$W/nginx" -c "$W/nginx/nginx.conf" || fail "nginx did not start"
echo '{"instances": [[0.5, 1, -1, 2]]}' > "$W/body.json"
before=$(curl -s -XPOST "http://127.0.0.1:$LB/v1/models/eta:predict" -d @"$W/body.json")
[[ $before == *predictions* ]] || fail "no prediction through nginx: $before"

# Version 2 arrives in the repository; nobody serves it yet.
"$BIN" models publish --repo "$REPO" --task eta --backend xgboost eta "$W/m2.json" >/dev/null ||
  fail "publish v2"
curl -s "http://127.0.0.1:$P1/v1/models/eta" | grep -q '"version": "2"' && fail "v2 loaded before the update"

# Load through the balancer for the whole update.
BODY="$W/body.json" wrk -t2 -c8 -d"${DURATION}s" --latency -s "$SRC/bench/serving/predict.lua" \
  "http://127.0.0.1:$LB/v1/models/eta:predict" > "$W/wrk.txt" 2>&1 &
wrk_pid=$!; pids+=("$wrk_pid")
sleep 3
start=$SECONDS
"$SRC/deploy/rolling-update.sh" --upstream "$W/nginx/upstream.conf" \
  --reload "nginx -p $W/nginx -c $W/nginx/nginx.conf -s reload" \
  --restart "$W/replica.sh \$REPLICA_PORT" --model eta --version 2 --drain-seconds 1 --drain "$DRAIN_MODE" \
  "127.0.0.1:$P1" "127.0.0.1:$P2" > "$W/update.txt" 2>&1
update_rc=$?
update_s=$((SECONDS - start))
wrk_running=0; kill -0 "$wrk_pid" 2>/dev/null && wrk_running=1
wait "$wrk_pid"
cat "$W/update.txt"
cat "$W/wrk.txt"
[[ $update_rc == 0 ]] || fail "rolling-update.sh exited $update_rc"
[[ $wrk_running == 1 ]] || fail "the load ended before the update did (${update_s}s): run longer"
after=$(curl -s -XPOST "http://127.0.0.1:$LB/v1/models/eta:predict" -d @"$W/body.json")
[[ $after == *predictions* && $after != "$before" ]] || fail "the balancer answers '$after' (before: '$before')"
for p in "$P1" "$P2"; do
  status=$(curl -s "http://127.0.0.1:$p/v1/models/eta")
  [[ $status == *'"version": "2", "state": "AVAILABLE"'* ]] || fail "replica $p: $status"
  [[ $status != *'"version": "1"'* ]] || fail "replica $p still has version 1: $status"
done
requests=$(awk '/requests in/ {print $1}' "$W/wrk.txt")
failed=$(awk -F'[:,]' '/^non-2xx\/3xx/ {print $2 + $4}' "$W/wrk.txt")
breakdown=$(grep '^non-2xx/3xx' "$W/wrk.txt")
statuses=$(awk '{print $2}' "$W/nginx/access.log" | sort | uniq -c | tr '\n' ' ')
rate=$(awk '/Requests\/sec/ {print int($2)}' "$W/wrk.txt")
retried=$(grep -c 'upstream_status=[0-9]*, ' "$W/nginx/access.log")
by_replica=$(grep -o 'upstream=127.0.0.1:[0-9]*' "$W/nginx/access.log" | sort | uniq -c | tr '\n' ' ')
[[ -n $requests && $requests -gt 0 ]] || fail "wrk sent no requests"
echo "rolling update (drain: $DRAIN_MODE): 2 replicas, v1 -> v2 in ${update_s}s under load; wrk ${DURATION}s -c8: $requests requests ($rate/s), $failed failed ($breakdown); nginx answered: $statuses; nginx retries: $retried; answered by: $by_replica"
if [[ $failed != 0 ]]; then
  grep -v ' 200 ' "$W/nginx/access.log" | head -5
  grep -v 'notice\|Connection refused\|Connection reset by peer' "$W/nginx/error.log" | head -5
  fail "$failed requests failed during the rolling update"
fi
echo "PASS"
