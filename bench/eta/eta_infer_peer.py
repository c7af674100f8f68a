#!/usr/bin/env python3
"""Python peers of the ETA inference benchmark (bench/eta/eta_infer_bench.cc): the same
model files and feature rows, one thread, batch 1 and batch 256.
usage: eta_infer_peer.py DIR TORCH_MODEL_PT XGBOOST_MODEL_JSON NUM_FEATURES
Prints 'python <backend> batch <b>: <rows/s> rows/s'."""
import sys
import time

import numpy as np
import torch
import xgboost as xgb


def rate(fn, x, batch, min_seconds=1.0):
    n = x.shape[0] - x.shape[0] % batch
    done, start = 0, time.perf_counter()
    while True:
        for s in range(0, n, batch):
            fn(x[s:s + batch])
        done += n
        sec = time.perf_counter() - start
        if sec >= min_seconds:
            return done / sec


def main():
    d, pt, js, f = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    torch.set_num_threads(1)
    x = np.fromfile(d + "/x.bin", dtype=np.float32).reshape(-1, f)
    m = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.load(pt).eval()))
    xt = torch.from_numpy(x)

    def torch_predict(rows):
        with torch.no_grad():
            return m(rows).numpy()

    booster = xgb.Booster(model_file=js)
    booster.set_param({"nthread": 1})

    def xgb_predict(rows):
        return booster.inplace_predict(rows)

    for b in (1, 256):
        print(f"python torchscript batch {b}: {rate(torch_predict, xt[:20000] if b == 1 else xt, b):.0f} rows/s", flush=True)
    for b in (1, 256):
        print(f"python xgboost batch {b}: {rate(xgb_predict, x[:20000] if b == 1 else x, b):.0f} rows/s", flush=True)


if __name__ == "__main__":
    main()
