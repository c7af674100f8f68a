#!/usr/bin/env python3
"""Python peer of the conversion model training (bench/behaviour/behaviour_train_bench.cc).

Same rows (x.bin, y.bin written by the C++ bench), same parameters and threads:
  XGBoost: binary:logistic, hist, max_depth, eta, min_child_weight, subsample, fixed rounds,
           the training logloss evaluated every round (as our trainer does), model saved;
           timed from building the DMatrix to the saved model, as ours is.
  PyTorch: standardised inputs -> ReLU MLP -> 1 logit, BCE with logits, Adam, batch size,
           epochs, shuffled indices + index_select per batch (as TrainTabularNet does).
Prints 'python_xgboost_rows_per_second N' and 'python_torch_rows_per_second N'.
usage: behaviour_train_peer.py DIR
"""
import json
import sys
import time

import numpy as np
import torch
import xgboost as xgb


def main():
    d = sys.argv[1]
    cfg = json.load(open(d + "/config.json"))
    f = cfg["num_features"]
    x = np.fromfile(d + "/x.bin", dtype=np.float32).reshape(-1, f)
    y = np.fromfile(d + "/y.bin", dtype=np.float32)
    n = x.shape[0]

    start = time.perf_counter()
    dtrain = xgb.DMatrix(x, label=y, nthread=cfg["threads"])
    params = {"objective": "binary:logistic", "tree_method": "hist",
              "max_depth": cfg["max_depth"], "eta": cfg["eta"],
              "min_child_weight": cfg["min_child_weight"], "subsample": cfg["subsample"],
              "nthread": cfg["threads"], "seed": cfg["seed"]}
    booster = xgb.train(params, dtrain, num_boost_round=cfg["rounds"], evals=[(dtrain, "train")],
                        verbose_eval=False)
    booster.save_model(d + "/python_xgboost.json")
    sec = time.perf_counter() - start
    print(f"python xgboost: {sec:.2f} s, train logloss "
          f"{float(booster.eval(dtrain).split(':')[1]):.4f}  xgboost {xgb.__version__}")
    print(f"python_xgboost_rows_per_second {n * cfg['rounds'] / sec:.0f}", flush=True)

    torch.set_num_threads(cfg["threads"])
    torch.manual_seed(cfg["seed"])
    mean, std = x.mean(0), x.std(0)
    std[std < 1e-6] = 1.0
    num = torch.from_numpy((x - mean) / std)
    target = torch.from_numpy(y.reshape(-1, 1))
    layers, width = [], f
    for h in cfg["hidden"]:
        layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
        width = h
    layers.append(torch.nn.Linear(width, 1))
    net = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(net.parameters(), lr=cfg["lr"])
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
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                net(num.index_select(0, idx)), target.index_select(0, idx))
            loss.backward()
            opt.step()
            loss_sum += loss.item() * idx.numel()
        sec = time.perf_counter() - start
        total_rows += n
        total_s += sec
        print(f"python torch epoch {epoch}  loss {loss_sum / n:.4f}  {n / sec:.0f} rows/s",
              flush=True)
    print(f"python_torch_rows_per_second {total_rows / total_s:.0f}  threads "
          f"{torch.get_num_threads()}  torch {torch.__version__}")


if __name__ == "__main__":
    main()
