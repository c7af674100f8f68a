#!/usr/bin/env bash
# The include rules of docs/architecture.md, checked on every library file of src/ (tests,
# src/*/testing/ and test utilities may also include what their end-to-end checks need, but
# never a folder above their own in the table; cli/ may include everything):
#   1. a component includes only the components its row allows;
#   2. LibTorch headers only in src/models/torch/, XGBoost headers only in src/models/xgboost/,
#      ONNX headers only in src/models/onnx/, gRPC headers only in src/serving/grpc/,
#      hiredis only in src/online/redis/;
#   3. a backend's headers (models/torch/, models/xgboost/) only in src/models/ and
#      src/train/backends/ — tasks reach backends through train::Train and models::LoadModel.
# The Python module's C++ files (python/, beside src/) are checked as component "python": any
# library below cli/, never LibTorch, XGBoost or a backend's headers.
# Prints one line per violation and "N passed, M failed".
# Usage: layering_test.sh [SRC [PYTHON]]   (default: the checkout's src/ and python/)
set -u
SRC="${1:-$(dirname "$0")/../src}"
PY="${2:-$SRC/../python}"
declare -A ALLOWED=(
  [common]="common"
  [parquet]="common parquet"
  [data]="common parquet data"
  [simulator]="common parquet data simulator"
  [features]="common data features"
  [models]="common models"
  [registry]="common registry"
  [online]="common online"
  [train]="common models registry train"
  [tasks]="common data simulator features models registry online train tasks cli/command.h serving/feature_adapter.h monitoring/drift.h monitoring/labelled_rows.h"
  [monitoring]="common parquet registry train/metrics.h monitoring"
  [retraining]="common registry monitoring retraining"
  [serving]="common features models registry online monitoring serving"
  [console]="common data features registry monitoring serving console"
  [python]="common parquet data simulator features models registry online train tasks monitoring retraining serving"
)
fails=0; passes=0
fail() { fails=$((fails+1)); echo "FAIL $1"; }
is_test() { [[ "$1" == *_test.cc || "$1" == */testing/* || "$1" == *test_util* || "$1" == *_fuzz*.cc || "$1" == *fuzzer.cc || "$1" == *fuzz_seeds.cc ]]; }

while IFS= read -r file; do
  if [[ "$file" == "$PY"/* ]]; then rel="python/${file#"$PY"/}"; else rel="${file#"$SRC"/}"; fi
  component="${rel%%/*}"
  [[ "$component" == cli ]] && continue
  allowed="${ALLOWED[$component]:-}"
  if [[ -z "$allowed" ]]; then fail "$rel: component '$component' has no row in the rules"; continue; fi
  ok=1
  while IFS= read -r inc; do
    [[ -z "$inc" ]] && continue
    target="${inc%%/*}"
    if [[ "$inc" == torch/* || "$inc" == ATen/* || "$inc" == c10/* ]]; then
      [[ "$rel" == models/torch/* ]] || { fail "$rel includes LibTorch <$inc>"; ok=0; }
      continue
    fi
    if [[ "$inc" == xgboost/* ]]; then
      [[ "$rel" == models/xgboost/* ]] || { fail "$rel includes XGBoost <$inc>"; ok=0; }
      continue
    fi
    if [[ "$inc" == grpc/* || "$inc" == grpcpp/* || "$inc" == grpc++/* ]]; then
      [[ "$rel" == serving/grpc/* ]] || { fail "$rel includes gRPC <$inc>"; ok=0; }
      continue
    fi
    if [[ "$inc" == hiredis/* ]]; then
      [[ "$rel" == online/redis/* ]] || { fail "$rel includes hiredis <$inc>"; ok=0; }
      continue
    fi
    if [[ "$inc" == onnx/* ]]; then
      [[ "$rel" == models/onnx/* ]] || { fail "$rel includes ONNX <$inc>"; ok=0; }
      continue
    fi
    [[ "$inc" == */* ]] || continue  # standard and third-party headers
    if [[ "$inc" == models/torch/* || "$inc" == models/xgboost/* ]]; then
      if [[ "$rel" != models/* && "$rel" != train/backends/* ]] && ! is_test "$rel"; then
        fail "$rel includes the backend header \"$inc\" (use train::Train / models::LoadModel)"; ok=0
      fi
      continue
    fi
    if [[ " $allowed " == *" $target "* || " $allowed " == *" $inc "* ]]; then continue; fi
    # Tests may reach down (to set up what they check end to end) but not into cli/.
    if is_test "$rel" && [[ "$target" != cli || "$inc" == cli/command.h ]]; then continue; fi
    [[ -d "$SRC/$target" ]] || continue  # not one of ours (e.g. <nlohmann/json.hpp>)
    fail "$rel includes \"$inc\": $component may include only: $allowed"; ok=0
  done < <(grep -hoE '^#include [<"][^>"]+[>"]' "$file" | sed -E 's/^#include [<"]([^>"]+)[>"]/\1/')
  ((ok)) && passes=$((passes+1))
done < <({ find "$SRC" -name '*.h' -o -name '*.cc'
           [[ -d "$PY" ]] && find "$PY" -name '*.h' -o -name '*.cc'; } | sort)
echo "$passes passed, $fails failed"
[[ $fails -eq 0 ]]
