"""Reads a model server's Prometheus /metrics text on stdin and prints, per model version, the
request count and the p50/p90/p99 upper bucket bounds of the queue, compute, total and overhead
histograms and of the batch sizes — the server's own view of a benchmark run.

  curl -s http://127.0.0.1:PORT/metrics | /usr/bin/python3 bench/serving/metrics_summary.py
"""
import re
import sys
from collections import defaultdict

LINE = re.compile(r'^(bimride_predict_\w+?|bimride_batch_rows)_bucket\{(.*),le="([^"]+)"\} (\S+)$')


def quantile(buckets, q):
    total = buckets[-1][1]
    if total == 0:
        return float("nan")
    for bound, count in buckets:
        if count >= q * total:
            return bound
    return float("inf")


def main():
    hist = defaultdict(list)  # (metric, labels) -> [(le, cumulative count)]
    for line in sys.stdin:
        m = LINE.match(line.strip())
        if m:
            le = float("inf") if m.group(3) == "+Inf" else float(m.group(3))
            hist[(m.group(1), m.group(2))].append((le, float(m.group(4))))
    for (metric, labels), buckets in sorted(hist.items()):
        buckets.sort()
        n = int(buckets[-1][1])
        if n == 0:
            continue
        scale, unit = (1e6, "us") if metric.endswith("seconds") else (1, "rows")
        qs = " ".join(f"p{int(q * 100)}<={quantile(buckets, q) * scale:g}{unit}"
                      for q in (0.5, 0.9, 0.99))
        print(f"{metric}{{{labels}}} n={n} {qs}")


if __name__ == "__main__":
    main()
