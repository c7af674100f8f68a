#!/usr/bin/env bash
# One command for the data-parallel benchmark (BENCHMARKS.md, "Distributed training"):
#   bench/distributed/run.sh [BUILD_DIR] [-- eta_ddp_bench flags, e.g. --epochs 3 --repeats 3]
# Builds eta_ddp_bench and runs it: LibTorch c10d/Gloo vs Python PyTorch DDP, 1 and 2 ranks of
# 1 thread, on the ETA net and green 2021-01 features. Run it on a quiet machine.
set -eu
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${1:-$ROOT/build}"; shift || true
[[ "${1:-}" == "--" ]] && shift
cmake -S "$ROOT" -B "$BUILD" -G Ninja >/dev/null
ninja -C "$BUILD" eta_ddp_bench >/dev/null
WORK=$(mktemp -d /tmp/eta_ddp_bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $(date -u '+%F %H:%M UTC')"
"$BUILD/bench/distributed/eta_ddp_bench" --work "$WORK" "$@"
