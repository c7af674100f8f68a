#!/usr/bin/env bash
# What the commands of README.md generate inside a checkout is ignored by git, so a newcomer's
# `git status` stays clean after the tour: build folders, out/, model_repo/, model folders.
# Prints one line per path git would show and "N passed, M failed".
set -u
ROOT="${1:-$(dirname "$0")/..}"
cd "$ROOT" || exit 1
fails=0; passes=0
for path in build/x build-asan/x out/trips.parquet model_repo/eta/1/model.json \
            eta_model/model.json eta_models/a/model.json demand_model/model.json \
            demand_models/a/model.json; do
  if git check-ignore -q --no-index "$path"; then passes=$((passes+1)); else
    fails=$((fails+1)); echo "FAIL $path is not ignored by .gitignore"; fi
done
echo "$passes passed, $fails failed"
[[ $fails -eq 0 ]]
