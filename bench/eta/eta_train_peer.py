#!/usr/bin/env python3
"""Python PyTorch peer of the LibTorch ETA net training (bench/eta/eta_train_bench.cc).

Same data (the ETA feature matrix the C++ bench wrote), same architecture (embeddings for the
id columns + standardised numerics -> ReLU MLP), same loss (MSE), optimiser (Adam), batch size,
epochs, thread count and batching scheme (shuffled indices, index_select per batch).
Prints one line per epoch and a final 'python_rows_per_second N'.
usage: eta_train_peer.py DIR   (DIR holds x.bin, y.bin, config.json)
"""
import json
import sys
import time

import numpy as np
import torch


def main():
    d = sys.argv[1]
    cfg = json.load(open(d + "/config.json"))
    torch.set_num_threads(cfg["threads"])
    torch.manual_seed(cfg["seed"])
    f = cfg["num_features"]
    x = np.fromfile(d + "/x.bin", dtype=np.float32).reshape(-1, f)
    y = np.fromfile(d + "/y.bin", dtype=np.float32).reshape(-1, 1)
    cat = cfg["categorical"]  # [[column, cardinality, dim], ...]
    cat_cols = [c[0] for c in cat]
    num_cols = [i for i in range(f) if i not in cat_cols]
    ids = torch.from_numpy(x[:, cat_cols].astype(np.int64))
    num = x[:, num_cols]
    mean, std = num.mean(0), num.std(0)
    std[std < 1e-6] = 1.0
    num = torch.from_numpy((num - mean) / std)
    target = torch.from_numpy(y)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.ModuleList(torch.nn.Embedding(c[1], c[2]) for c in cat)
            width = len(num_cols) + sum(c[2] for c in cat)
            layers = []
            for h in cfg["hidden"]:
                layers.append(torch.nn.Linear(width, h))
                width = h
            self.hidden = torch.nn.ModuleList(layers)
            self.out = torch.nn.Linear(width, 1)

        def forward(self, ids, num):
            h = torch.cat([e(ids[:, k]) for k, e in enumerate(self.emb)] + [num], 1)
            for layer in self.hidden:
                h = torch.relu(layer(h))
            return self.out(h)

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=cfg["lr"])
    n = x.shape[0]
    bs = cfg["batch_size"]
    total_rows, total_s = 0, 0.0
    for epoch in range(1, cfg["epochs"] + 1):
        start = time.perf_counter()
        perm = torch.randperm(n)
        loss_sum = 0.0
        net.train()
        for s in range(0, n, bs):
            idx = perm[s:s + bs]
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(net(ids.index_select(0, idx), num.index_select(0, idx)),
                                                target.index_select(0, idx))
            loss.backward()
            opt.step()
            loss_sum += loss.item() * idx.numel()
        sec = time.perf_counter() - start
        total_rows += n
        total_s += sec
        print(f"python epoch {epoch}  loss {loss_sum / n:.4f}  {n / sec:.0f} rows/s", flush=True)
    print(f"python_rows_per_second {total_rows / total_s:.0f}  threads {torch.get_num_threads()}"
          f"  torch {torch.__version__}")


if __name__ == "__main__":
    main()
