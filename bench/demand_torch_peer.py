#!/usr/bin/env python3
"""Python PyTorch peer of the demand LibTorch model's training (bench/demand_torch_bench.cc).

Same data file (written by the C++ bench), same model (zone + target-slot embeddings and
standardised numeric columns -> ReLU MLP -> H log-rates), same loss (Poisson NLL, log input,
mean), same optimiser (Adam), batch size, epochs and intra-op threads. Prints one JSON line:
{"rows_per_second": ..., "seconds": ..., "final_loss": ..., "threads": ...}.
"""
import argparse
import json
import struct
import time

import numpy as np
import torch


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

    cat_cols = [c for c, _, _ in cats]
    num_cols = [c for c in range(nfeat) if c not in cat_cols]
    ids = torch.from_numpy(np.stack([np.clip(x[:, c].astype(np.int64), 0, card - 1)
                                     for c, card, _ in cats], axis=1))
    numeric = x[:, num_cols].astype(np.float64)
    mean = numeric.mean(axis=0)
    std = numeric.std(axis=0)
    std[std <= 1e-6] = 1.0
    numeric = torch.from_numpy(((numeric - mean) / std).astype(np.float32))
    targets = torch.from_numpy(y.copy())

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.ModuleList([torch.nn.Embedding(card, dim) for _, card, dim in cats])
            width = len(num_cols) + sum(dim for _, _, dim in cats)
            sizes = [int(s) for s in args.hidden.split(",")] + [nout]
            self.fc = torch.nn.ModuleList()
            for s in sizes:
                self.fc.append(torch.nn.Linear(width, s))
                width = s

        def forward(self, ids, numeric):
            h = torch.cat([e(ids[:, k]) for k, e in enumerate(self.emb)] + [numeric], 1)
            for layer in self.fc[:-1]:
                h = torch.relu(layer(h))
            return self.fc[-1](h)

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    start = time.perf_counter()
    loss_sum = 0.0
    for _ in range(args.epochs):
        perm = torch.randperm(rows)
        net.train()
        loss_sum = 0.0
        for s in range(0, rows, args.batch):
            idx = perm[s:s + args.batch]
            opt.zero_grad()
            raw = net(ids.index_select(0, idx), numeric.index_select(0, idx))
            loss = torch.nn.functional.poisson_nll_loss(raw, targets.index_select(0, idx),
                                                        log_input=True, full=False, eps=1e-8)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * idx.numel()
    seconds = time.perf_counter() - start
    print(json.dumps({"rows_per_second": rows * args.epochs / seconds, "seconds": seconds,
                      "final_loss": loss_sum / rows, "threads": torch.get_num_threads(),
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
