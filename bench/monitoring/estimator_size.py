"""Helpers of estimator_size.sh.

  estimator_size.py cut IN OUT K      an XGBoost JSON model cut to its first K trees
  estimator_size.py score MONITOR K   a /v1/monitor answer's closed, fully labelled windows:
                                      estimates within 15% of the realised RMSE
"""
import json
import sys


def cut(src, dst, k):
    m = json.load(open(src))
    gb = m["learner"]["gradient_booster"]["model"]
    n = len(gb["trees"])
    k = min(k, n)
    gb["trees"] = gb["trees"][:k]
    gb["tree_info"] = gb["tree_info"][:k]
    gb["gbtree_model_param"]["num_trees"] = str(k)
    if "iteration_indptr" in gb:
        gb["iteration_indptr"] = gb["iteration_indptr"][: k + 1]
    with open(dst, "w") as f:
        json.dump(m, f)
    return n, k


def score(path, label):
    j = json.load(open(path))
    ws = [w for w in j["windows"] if w.get("closed") and w.get("labelled_rows") == j["window_rows"]]
    if not ws:
        sys.exit(f"{path}: no closed, fully labelled window")

    def rate(key):
        within = sum(abs(w[key] - w["rmse"]) <= 0.15 * w["rmse"] for w in ws)
        rel = sum(abs(w[key] - w["rmse"]) / w["rmse"] for w in ws) / len(ws)
        return within, 100 * rel

    a, r = rate("estimated_rmse"), rate("estimated_rmse_unanchored")
    print(f"| {label} | {len(ws)} | {a[0]} ({100 * a[0] / len(ws):.0f}%), {a[1]:.2f}% "
          f"| {r[0]} ({100 * r[0] / len(ws):.0f}%), {r[1]:.2f}% |")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "cut":
        n, k = cut(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        print(f"{sys.argv[2]}: {n} trees, kept {k}")
    elif len(sys.argv) == 4 and sys.argv[1] == "score":
        score(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
