#!/usr/bin/env python3
"""Python PyTorch DDP peer of bench/distributed/eta_ddp_bench.cc.

Same data (the ETA feature matrix the C++ bench wrote), same net (embeddings for the id columns
+ standardised numerics -> ReLU MLP -> 1), MSE, Adam, global batch and epochs, 1 thread per rank,
gloo. WORLD ranks (torch.multiprocessing, rendezvous on a free loopback port); with WORLD=1 the
plain net (no DDP), as the C++ side trains one process. Each step rank r takes rows r, r+W, ...
of the global batch (the C++ sampler's sharding). Rank 0 prints
'python ranks W  threads 1  samples_per_second N  train_seconds S'.
usage: ddp_peer.py DIR WORLD   (DIR holds x.bin, y.bin, config.json)
"""
import json
import os
import socket
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def run(rank, world, d, port):
    cfg = json.load(open(d + "/config.json"))
    torch.set_num_threads(1)
    torch.manual_seed(cfg["seed"])
    if world > 1:
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                                world_size=world)
    f = cfg["num_features"]
    x = np.fromfile(d + "/x.bin", dtype=np.float32).reshape(-1, f)
    y = np.fromfile(d + "/y.bin", dtype=np.float32).reshape(-1, 1)
    cat = cfg["categorical"]
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
    model = torch.nn.parallel.DistributedDataParallel(net) if world > 1 else net
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    n = x.shape[0]
    bs = cfg["batch_size"]
    total_s = 0.0
    g = torch.Generator()
    g.manual_seed(cfg["seed"])
    for epoch in range(1, cfg["epochs"] + 1):
        if world > 1:
            dist.barrier()
        start = time.perf_counter()
        perm = torch.randperm(n, generator=g)  # the same on every rank
        model.train()
        for s in range(0, n, bs):
            idx = perm[min(s + rank, min(s + bs, n)):min(s + bs, n):world]
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(
                model(ids.index_select(0, idx), num.index_select(0, idx)),
                target.index_select(0, idx))
            loss.backward()
            opt.step()
        total_s += time.perf_counter() - start
    if rank == 0:
        print(f"python ranks {world}  threads {torch.get_num_threads()}  samples_per_second "
              f"{n * cfg['epochs'] / total_s:.0f}  train_seconds {total_s:.3f}  torch "
              f"{torch.__version__}", flush=True)
    if world > 1:
        dist.destroy_process_group()


def main():
    d, world = sys.argv[1], int(sys.argv[2])
    os.environ["OMP_NUM_THREADS"] = "1"
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    if world == 1:
        run(0, 1, d, port)
    else:
        mp.spawn(run, args=(world, d, port), nprocs=world, join=True)


if __name__ == "__main__":
    main()
