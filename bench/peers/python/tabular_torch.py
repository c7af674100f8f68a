"""The tabular net of our LibTorch trainer (models/torch/tabular_net.h) written the usual way in
Python PyTorch, shared by the Python peers of the benchmarks (bench/eta/eta_train_peer.py,
bench/demand_torch_peer.py, bench/frameworks/python_peer.py): an embedding per id column and
standardised numeric columns -> ReLU MLP -> outputs; MSE or Poisson NLL on log-rates; Adam over
shuffled batches (index_select per batch)."""
import time

import numpy as np
import torch


def split_columns(x, cats):
    """ids (int64, clipped into each column's range) and the numeric columns (float32) of rows x;
    cats = [[column, cardinality, dim], ...]."""
    cat_cols = [c[0] for c in cats]
    num_cols = [c for c in range(x.shape[1]) if c not in cat_cols]
    ids = np.stack([np.clip(x[:, c].astype(np.int64), 0, card - 1) for c, card, _ in cats], axis=1)
    return ids, x[:, num_cols], num_cols


def scaler(numeric):
    """Mean and standard deviation per numeric column (std 1 where a column is constant)."""
    numeric = numeric.astype(np.float64)
    mean, std = numeric.mean(axis=0), numeric.std(axis=0)
    std[std <= 1e-6] = 1.0
    return mean.astype(np.float32), std.astype(np.float32)


class TabularNet(torch.nn.Module):
    def __init__(self, cats, num_numeric, hidden, outputs):
        super().__init__()
        self.emb = torch.nn.ModuleList(torch.nn.Embedding(card, dim) for _, card, dim in cats)
        width = num_numeric + sum(dim for _, _, dim in cats)
        self.fc = torch.nn.ModuleList()
        for s in list(hidden) + [outputs]:
            self.fc.append(torch.nn.Linear(width, s))
            width = s

    def forward(self, ids, numeric):
        h = torch.cat([e(ids[:, k]) for k, e in enumerate(self.emb)] + [numeric], 1)
        for layer in self.fc[:-1]:
            h = torch.relu(layer(h))
        return self.fc[-1](h)


class RawRowNet(torch.nn.Module):
    """A trained TabularNet over raw feature rows (ids as floats, unscaled numerics): what a
    served model takes, as our TorchScript export does. Poisson nets answer rates (exp)."""

    def __init__(self, net, cats, num_cols, mean, std, poisson):
        super().__init__()
        self.net = net
        self.cat_cols = [c[0] for c in cats]
        self.card = [c[1] for c in cats]
        self.num_cols = num_cols
        self.register_buffer("mean", torch.from_numpy(mean))
        self.register_buffer("std", torch.from_numpy(std))
        self.poisson = poisson

    def forward(self, x):
        ids = torch.stack([x[:, c].long().clamp(0, n - 1) for c, n in zip(self.cat_cols, self.card)], 1)
        out = self.net(ids, (x[:, self.num_cols] - self.mean) / self.std)
        return torch.exp(out) if self.poisson else out


def loss_fn(name):
    if name == "poisson":
        return lambda raw, y: torch.nn.functional.poisson_nll_loss(raw, y, log_input=True, full=False,
                                                                   eps=1e-8)
    return torch.nn.functional.mse_loss


def train(net, ids, numeric, targets, loss, lr, batch, epochs, on_epoch=None):
    """Adam over shuffled batches; returns (rows per second over all epochs, last epoch's loss)."""
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    f = loss_fn(loss)
    n = ids.shape[0]
    total_s, loss_mean = 0.0, float("nan")
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        perm = torch.randperm(n)
        net.train()
        loss_sum = 0.0
        for s in range(0, n, batch):
            idx = perm[s:s + batch]
            opt.zero_grad()
            out = f(net(ids.index_select(0, idx), numeric.index_select(0, idx)), targets.index_select(0, idx))
            out.backward()
            opt.step()
            loss_sum += out.item() * idx.numel()
        sec = time.perf_counter() - start
        total_s += sec
        loss_mean = loss_sum / n
        if on_epoch:
            on_epoch(epoch, loss_mean, n / sec)
    return n * epochs / total_s, loss_mean
