#!/usr/bin/env bash
# Builds the web console's assets into OUT (default: build/ui): our pages (ui/src) and the chart
# and map library from npm (ECharts, pinned by ui/package-lock.json; no CDN at run time), bundled
# by esbuild (also pinned) from ui/src/charts.js with only the parts the pages draw.
# Run by scripts/setup after `npm ci` in ui/, and by the build (CMake target bimride_ui).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
OUT="${1:-$HERE/../build/ui}"
ESBUILD="$HERE/node_modules/.bin/esbuild"
if [[ ! -d "$HERE/node_modules/echarts" || ! -x "$ESBUILD" ]]; then
  echo "ui/build.sh: ui/node_modules lacks echarts or esbuild: run 'npm ci' in ui/ (scripts/setup does)" >&2
  exit 1
fi
mkdir -p "$OUT/vendor"
cp "$HERE"/src/index.html "$HERE"/src/app.js "$HERE"/src/style.css "$HERE"/src/static.js "$OUT/"
"$ESBUILD" "$HERE/src/charts.js" --bundle --minify --format=iife --target=es2020 \
  --log-level=warning --outfile="$OUT/vendor/echarts.min.js"
cp "$HERE/node_modules/echarts/LICENSE" "$OUT/vendor/ECHARTS_LICENSE"
