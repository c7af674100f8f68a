#!/usr/bin/env python3
"""The Python peers of `bimride bench frameworks` (Debian's python3-torch and python3-xgboost,
one thread): the same net (bench/peers/python/tabular_torch.py) and the same boosted trees,
trained on the same rows with the same settings as our C++ trainers, and run on the same
validation rows. Prints one JSON line of figures.

usage: python_peer.py MODE DIR OUT [MODEL]
  torch_train        trains the net on DIR/train_*.bin; writes OUT/net.pt (the eager module's
                     state), OUT/valid_pred.bin
  torch_eager_infer  loads OUT/net.pt into the eager module; cold start, batch 1 and 256
  torch_jit_infer    torch.jit.load(MODEL) (our LibTorch export) -> freeze ->
                     optimize_for_inference; cold start, batch 1 and 256
  xgb_train          xgboost.train with DIR/spec.json's params, one booster per output;
                     writes OUT/output_K.json, OUT/valid_pred.bin; samples/s counts a row once
                     per boosting round, as our trainer reports it
  xgb_infer          xgboost.Booster(MODEL or MODEL/output_K.json); inplace_predict
"""
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers", "python"))


def ms_since_spawn():
    spawn = int(os.environ.get("BIMRIDE_BENCH_SPAWN_NS", "0"))
    return (time.time_ns() - spawn) / 1e6 if spawn > 0 else float("nan")


def peak_rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def rate(fn, x, batch, seconds):
    """Rows/s of fn over batches of x's rows, wrapping around, until `seconds` have passed (the
    clock read every 64 calls, as bench/bench_timing.h does)."""
    n = x.shape[0] - x.shape[0] % batch
    calls, s, start = 0, 0, time.perf_counter()
    while True:
        for _ in range(64):
            fn(x[s:s + batch])
            calls += 1
            s += batch
            if s >= n:
                s = 0
        sec = time.perf_counter() - start
        if sec >= seconds:
            return calls * batch / sec


def files_bytes(paths):
    return sum(os.path.getsize(p) for p in paths)


def load(d, split, spec):
    x = np.fromfile(f"{d}/{split}_x.bin", dtype=np.float32).reshape(-1, spec["num_features"])
    y = np.fromfile(f"{d}/{split}_y.bin", dtype=np.float32).reshape(-1, spec["num_outputs"])
    return x, y


def timings(predict, x, spec, cold, model_files, version):
    return {"cold_start_ms": cold,
            "b1_rows_per_s": rate(predict, x[:spec["b1_rows"]], 1, spec["infer_seconds"]),
            "b256_rows_per_s": rate(predict, x, 256, spec["infer_seconds"]),
            "model_bytes": files_bytes(model_files), "threads": 1, "version": version}


def booster_files(model):
    if os.path.isdir(model):
        k = 0
        files = []
        while os.path.exists(f"{model}/output_{k}.json"):
            files.append(f"{model}/output_{k}.json")
            k += 1
        return files
    return [model]


def main():
    mode, d, out = sys.argv[1], sys.argv[2], sys.argv[3]
    model = sys.argv[4] if len(sys.argv) > 4 else ""
    spec = json.load(open(d + "/spec.json"))
    cats = spec["categorical"]
    result = {}
    if mode.startswith("torch"):
        import torch
        import tabular_torch
        torch.set_num_threads(1)
        torch.manual_seed(spec["seed"])
        poisson = spec["loss"] == "poisson"
        version = f"torch {torch.__version__}"
        if mode == "torch_train":
            os.makedirs(out, exist_ok=True)
            x, y = load(d, "train", spec)
            ids, num, num_cols = tabular_torch.split_columns(x, cats)
            mean, std = tabular_torch.scaler(num)
            net = tabular_torch.TabularNet(cats, num.shape[1], spec["hidden"], spec["num_outputs"])
            rows_per_s, loss = tabular_torch.train(
                net, torch.from_numpy(ids), torch.from_numpy((num - mean) / std),
                torch.from_numpy(y.copy()), spec["loss"], spec["learning_rate"], spec["batch_size"],
                spec["epochs"])
            served = tabular_torch.RawRowNet(net, cats, num_cols, mean, std, poisson).eval()
            torch.save(served.state_dict(), out + "/net.pt")
            vx, _ = load(d, "valid", spec)
            with torch.no_grad():
                served(torch.from_numpy(vx)).numpy().astype(np.float32).tofile(out + "/valid_pred.bin")
            result = {"train_samples_per_s": rows_per_s, "final_train_loss": loss, "threads": 1,
                      "train_seconds": x.shape[0] * spec["epochs"] / rows_per_s, "version": version}
        else:
            if mode == "torch_eager_infer":
                x0 = np.zeros((1, spec["num_features"]), dtype=np.float32)
                _, num0, num_cols = tabular_torch.split_columns(x0, cats)
                net = tabular_torch.TabularNet(cats, num0.shape[1], spec["hidden"], spec["num_outputs"])
                m = tabular_torch.RawRowNet(net, cats, num_cols, np.zeros(len(num_cols), np.float32),
                                            np.ones(len(num_cols), np.float32), poisson)
                m.load_state_dict(torch.load(out + "/net.pt"))
                m.eval()
                files = [out + "/net.pt"]
            elif mode == "torch_jit_infer":
                m = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.load(model).eval()))
                files = [model]
                version += " (torch.jit)"
            else:
                raise SystemExit(f"unknown mode {mode}")
            vx, _ = load(d, "valid", spec)
            xt = torch.from_numpy(vx)

            def predict(rows):
                with torch.no_grad():
                    return m(rows).numpy()

            predict(xt[:1])
            result = timings(predict, xt, spec, ms_since_spawn(), files, version)
    elif mode.startswith("xgb"):
        import xgboost as xgb
        version = f"xgboost {xgb.__version__}"
        if mode == "xgb_train":
            os.makedirs(out, exist_ok=True)
            x, y = load(d, "train", spec)
            params = dict(spec["xgboost"], nthread=1, seed=spec["seed"])
            rounds = params.pop("rounds")
            boosters, seconds = [], 0.0
            for k in range(spec["num_outputs"]):
                # As our trainer does: a DMatrix per output, the train metric each round.
                start = time.perf_counter()
                dtrain = xgb.DMatrix(x, label=y[:, k], nthread=1)
                boosters.append(xgb.train(params, dtrain, rounds, evals=[(dtrain, "train")],
                                          verbose_eval=False))
                seconds += time.perf_counter() - start
                boosters[-1].save_model(f"{out}/output_{k}.json")
            vx, _ = load(d, "valid", spec)
            pred = np.stack([b.inplace_predict(vx) for b in boosters], axis=1).astype(np.float32)
            pred.tofile(out + "/valid_pred.bin")
            result = {"train_samples_per_s": x.shape[0] * rounds * spec["num_outputs"] / seconds, "train_seconds": seconds, "threads": 1, "version": version}
        elif mode == "xgb_infer":
            boosters = []
            for path in booster_files(model):
                b = xgb.Booster(model_file=path)
                b.set_param({"nthread": 1})
                boosters.append(b)
            vx, _ = load(d, "valid", spec)

            def predict(rows):
                if len(boosters) == 1:
                    return boosters[0].inplace_predict(rows)
                return np.stack([b.inplace_predict(rows) for b in boosters], axis=1)

            predict(vx[:1])
            result = timings(predict, vx, spec, ms_since_spawn(), booster_files(model), version)
        else:
            raise SystemExit(f"unknown mode {mode}")
    else:
        raise SystemExit(f"unknown mode {mode}")
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
