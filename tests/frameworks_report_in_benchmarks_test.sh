#!/usr/bin/env bash
# The committed framework report (report/frameworks.md, written by `bimride bench frameworks`)
# and BENCHMARKS.md's "Frameworks on our workloads" section carry the same figures: the
# section must hold the report's body (from its machine line on, headings two levels down)
# verbatim. Regenerating the report without copying it into BENCHMARKS.md fails here.
# Usage: frameworks_report_in_benchmarks_test.sh [CHECKOUT]
set -euo pipefail
ROOT="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
/usr/bin/python3 - "$ROOT/report/frameworks.md" "$ROOT/BENCHMARKS.md" <<'PY'
import sys
report, bench = (open(p, encoding="utf-8").read() for p in sys.argv[1:3])
if "**Machine:**" not in report:
    sys.exit(f"{sys.argv[1]}: no machine line; not a report of `bimride bench frameworks`")
body = report[report.index("**Machine:**"):]
body = "\n".join("##" + l if l.startswith("#") else l for l in body.split("\n")).rstrip()
if body not in bench:
    want, have = body.split("\n"), set(bench.split("\n"))
    missing = [l for l in want if l not in have][:5]
    sys.exit("BENCHMARKS.md does not quote report/frameworks.md; first lines missing:\n" +
             "\n".join(missing))
print("PASS: BENCHMARKS.md quotes report/frameworks.md")
PY
