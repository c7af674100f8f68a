#!/usr/bin/env python3
"""Python PyTorch peer of the demand LibTorch model's training (bench/demand_torch_bench.cc).

Same data file (written by the C++ bench), same model (zone + target-slot embeddings and
standardised numeric columns -> ReLU MLP -> H log-rates), same loss (Poisson NLL, log input,
mean), same optimiser (Adam), batch size, epochs and intra-op threads. Prints one JSON line:
{"rows_per_second": ..., "seconds": ..., "final_loss": ..., "threads": ...}.
"""
import argparse
import json
import os
import struct
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers", "python"))
import tabular_torch  # noqa: E402  (the net and training loop every Python peer shares)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--hidden", default="64,32")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(42)

    with open(args.data, "rb") as f:
        rows, nfeat, nout, ncat = struct.unpack("<qqqq", f.read(32))
        cats = [struct.unpack("<qqq", f.read(24)) for _ in range(ncat)]  # column, cardinality, dim
        x = np.frombuffer(f.read(4 * rows * nfeat), dtype=np.float32).reshape(rows, nfeat)
        y = np.frombuffer(f.read(4 * rows * nout), dtype=np.float32).reshape(rows, nout)

    ids, numeric, _ = tabular_torch.split_columns(x, cats)
    mean, std = tabular_torch.scaler(numeric)
    net = tabular_torch.TabularNet(cats, numeric.shape[1], [int(s) for s in args.hidden.split(",")], nout)
    start = time.perf_counter()
    _, final_loss = tabular_torch.train(net, torch.from_numpy(ids), torch.from_numpy((numeric - mean) / std),
                                        torch.from_numpy(y.copy()), "poisson", args.lr, args.batch,
                                        args.epochs)
    seconds = time.perf_counter() - start
    print(json.dumps({"rows_per_second": rows * args.epochs / seconds, "seconds": seconds,
                      "final_loss": final_loss, "threads": torch.get_num_threads(),
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
