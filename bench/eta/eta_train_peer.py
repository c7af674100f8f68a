#!/usr/bin/env python3
"""Python PyTorch peer of the LibTorch ETA net training (bench/eta/eta_train_bench.cc).

Same data (the ETA feature matrix the C++ bench wrote), same architecture (embeddings for the
id columns + standardised numerics -> ReLU MLP), same loss (MSE), optimiser (Adam), batch size,
epochs, thread count and batching scheme (shuffled indices, index_select per batch).
Prints one line per epoch and a final 'python_rows_per_second N'.
usage: eta_train_peer.py DIR   (DIR holds x.bin, y.bin, config.json)
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers", "python"))
import tabular_torch  # noqa: E402  (the net and training loop every Python peer shares)


def main():
    d = sys.argv[1]
    cfg = json.load(open(d + "/config.json"))
    torch.set_num_threads(cfg["threads"])
    torch.manual_seed(cfg["seed"])
    f = cfg["num_features"]
    x = np.fromfile(d + "/x.bin", dtype=np.float32).reshape(-1, f)
    y = np.fromfile(d + "/y.bin", dtype=np.float32).reshape(-1, 1)
    cat = cfg["categorical"]  # [[column, cardinality, dim], ...]
    ids, num, _ = tabular_torch.split_columns(x, cat)
    mean, std = tabular_torch.scaler(num)
    net = tabular_torch.TabularNet(cat, num.shape[1], cfg["hidden"], 1)
    rows_per_second, _ = tabular_torch.train(
        net, torch.from_numpy(ids), torch.from_numpy((num - mean) / std), torch.from_numpy(y),
        "mse", cfg["lr"], cfg["batch_size"], cfg["epochs"],
        lambda epoch, loss, rate: print(f"python epoch {epoch}  loss {loss:.4f}  {rate:.0f} rows/s",
                                        flush=True))
    print(f"python_rows_per_second {rows_per_second:.0f}  threads {torch.get_num_threads()}"
          f"  torch {torch.__version__}")


if __name__ == "__main__":
    main()
