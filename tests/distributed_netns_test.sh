#!/usr/bin/env bash
# Multi-host data-parallel training for real: two network namespaces ("hosts") joined by a veth
# pair, each running one rank of `bimride train eta --model torch` with torchrun's environment
# (MASTER_ADDR = host A's address, GLOO_SOCKET_IFNAME = the veth end). The namespaces and the
# pair are created here and removed on exit. The two-"host" model must equal the one-process
# model to float rounding. Then XGBoost's collective across the two hosts with one rank killed
# mid-training: the survivor names it (rank 0 names rank 1; rank 1 names rank 0), as no
# launcher is there to do it. Needs root and iproute2 (`ip netns`): otherwise exits 77, which ctest
# reports as skipped, with the reason.
# Usage: distributed_netns_test.sh BIMRIDE
set -u
BIN="$1"
SRC="$(cd "$(dirname "$0")/.." && pwd)"
if [[ $(id -u) != 0 ]]; then echo "SKIP: needs root to create network namespaces"; exit 77; fi
if ! command -v ip >/dev/null; then echo "SKIP: needs iproute2 (ip) for network namespaces"; exit 77; fi
WORK=$(mktemp -d /tmp/distributed_netns_test.XXXXXX)
TAG=$(( $$ % 100000 ))
NSA="bimride-a-$TAG"; NSB="bimride-b-$TAG"; VA="bra$TAG"; VB="brb$TAG"
NET="10.231.$(( $$ % 250 + 1 ))"
cleanup() {
  [[ -n "${PIDS:-}" ]] && kill $PIDS 2>/dev/null
  ip netns del "$NSA" 2>/dev/null; ip netns del "$NSB" 2>/dev/null  # removes the veth pair too
  [[ -n "${KEEP:-}" ]] || rm -rf "$WORK"
}
trap cleanup EXIT
if ! { ip netns add "$NSA" && ip netns add "$NSB" &&
       ip link add "$VA" type veth peer name "$VB" &&
       ip link set "$VA" netns "$NSA" && ip link set "$VB" netns "$NSB" &&
       ip -n "$NSA" addr add "$NET.1/24" dev "$VA" && ip -n "$NSB" addr add "$NET.2/24" dev "$VB" &&
       ip -n "$NSA" link set "$VA" up && ip -n "$NSB" link set "$VB" up &&
       ip -n "$NSA" link set lo up && ip -n "$NSB" link set lo up; } 2>"$WORK/ip.err"; then
  echo "SKIP: cannot create namespaces and a veth pair here: $(head -1 "$WORK/ip.err")"; exit 77
fi
fails=0; passes=0
ok() { passes=$((passes+1)); }
fail() { fails=$((fails+1)); echo "FAIL $*"; }
# Host B reaches host A only through the pair (the namespaces have nothing else but lo).
ip -n "$NSB" route get "$NET.1" 2>/dev/null | grep -q "dev $VB" && ok || fail "no route from B to A over $VB"

ETA=(train eta --train "$SRC/tests/data/green_2021-01_eta_sample.csv"
     --valid "$SRC/tests/data/green_2021-02_eta_sample.csv" --weather none --model torch
     --epochs 3 --batch-size 256 --threads 1 --no-publish --repo "$WORK/repo")
"$BIN" "${ETA[@]}" --out "$WORK/one" >"$WORK/one.log" 2>&1 && ok || { fail "one process"; tail "$WORK/one.log"; }

rank() {  # rank NS R IFACE
  ip netns exec "$1" env RANK="$2" LOCAL_RANK=0 WORLD_SIZE=2 MASTER_ADDR="$NET.1" MASTER_PORT=29517 \
    GLOO_SOCKET_IFNAME="$3" TMPDIR="$WORK" timeout 120 "$BIN" "${ETA[@]}" --out "$WORK/two" \
    --dist-timeout 30 >"$WORK/rank$2.log" 2>&1
}
rank "$NSA" 0 "$VA" & PA=$!
rank "$NSB" 1 "$VB" & PB=$!
PIDS="$PA $PB"
wait "$PA"; ra=$?; wait "$PB"; rb=$?; PIDS=
[[ $ra == 0 && $rb == 0 ]] && ok || { fail "ranks exited $ra, $rb"; tail -5 "$WORK/rank0.log" "$WORK/rank1.log"; }
grep -q "2 ranks" "$WORK/rank0.log" && ok || fail "rank 0 did not train with 2 ranks"
if /usr/bin/python3 - "$WORK/one/model.pt" "$WORK/two/model.pt" <<'PY'
import sys, torch
a = torch.jit.load(sys.argv[1]).state_dict(); b = torch.jit.load(sys.argv[2]).state_dict()
d = max(float((a[k] - b[k]).abs().max()) for k in a)
print("two hosts vs one process: max weight difference", d)
sys.exit(0 if d < 2e-4 else 1)
PY
then ok; else fail "the two-host model differs from the one-process model"; fi

# XGBoost across the two hosts, one rank killing itself after boosting round 5: the survivor's
# own error names it (train/rank_heartbeats.h), within the collective's timeout.
XGB=(train eta --train "$SRC/tests/data/green_2021-01_eta_sample.csv"
     --valid "$SRC/tests/data/green_2021-02_eta_sample.csv" --weather none --model xgboost
     --rounds 60 --threads 1 --no-publish --repo "$WORK/repo" --out "$WORK/xgb" --dist-timeout 10)
xrank() {  # xrank NS R FAULT
  ip netns exec "$1" env RANK="$2" LOCAL_RANK=0 WORLD_SIZE=2 MASTER_ADDR="$NET.1" MASTER_PORT=29527 \
    BIMRIDE_FAULT="$3" TMPDIR="$WORK" timeout 60 "$BIN" "${XGB[@]}" >"$WORK/xgb$2.log" 2>&1
}
for dead in 1 0; do
  live=$(( 1 - dead ))
  xrank "$NSA" 0 "$dead:5:kill" & PA=$!
  xrank "$NSB" 1 "$dead:5:kill" & PB=$!
  PIDS="$PA $PB"
  wait "$PA"; ra=$?; wait "$PB"; rb=$?; PIDS=
  [[ $ra != 0 && $rb != 0 ]] && ok || fail "xgboost, rank $dead killed: ranks exited $ra, $rb"
  if [[ $dead == 1 ]]; then want="rank 1 (last heartbeat at step 4) stopped"
  else want="rank 0 (last heartbeat at step 4) stopped: its heartbeat hub at $NET.1:29527"; fi
  grep -qF "$want" "$WORK/xgb$live.log" && ok ||
    { fail "xgboost, rank $dead killed: rank $live did not say '$want'"; tail -3 "$WORK/xgb$live.log"; }
done
echo "$passes passed, $fails failed"
[[ "$fails" == 0 ]]
