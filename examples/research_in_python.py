#!/usr/bin/python3
"""Research in Python, production in C++ (issue #20), end to end on real data:

  1. read green taxi 2021-01 (train) and 2021-02 (valid) with BimRide's own reader;
  2. build the with-distance ETA features exactly as `bimride train eta` does;
  3. train a small PyTorch net (Debian's python3-torch), tracked as a BimRide run
     (params, val RMSE by epoch, data sha256, git commit);
  4. publish it as TorchScript with its feature context, labelled `stable`;
  5. serve it with the real `bimride serve` and check that served predictions for raw requests
     (zones, pickup time, distance) equal the notebook's own on real rows.

    PYTHONPATH=build/python /usr/bin/python3 examples/research_in_python.py [--repo DIR]

(ctest runs it as python_research_example, label slow.) Exit 0 when served == notebook.
"""

import argparse
import os
import sys
import tempfile
import time

import numpy as np
import torch

import bimride
import bimride.serving


def parse_args():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=os.path.join(bimride.default_data_path("tlc_green") or
                                                  os.path.join(here, "..", "..", "shared", "data",
                                                               "tlc_green")))
    p.add_argument("--repo", default="", help="model repository (default: a temporary one)")
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--check-rows", type=int, default=500, help="real rows sent to the server")
    p.add_argument("--seed", type=int, default=7)
    return p.parse_args()


class EtaNet(torch.nn.Module):
    """Standardises its inputs (statistics of the training rows) then a small MLP → minutes."""

    def __init__(self, mean, std, hidden=(128, 64)):
        super().__init__()
        self.num_features = int(mean.shape[0])  # the server reads these two attributes
        self.num_outputs = 1
        self.register_buffer("mean", torch.as_tensor(mean))
        self.register_buffer("std", torch.as_tensor(std))
        layers, width = [], self.num_features
        for h in hidden:
            layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
            width = h
        layers.append(torch.nn.Linear(width, 1))
        self.mlp = torch.nn.Sequential(*layers)

    def forward(self, x):
        return self.mlp((x - self.mean) / self.std)


def rmse(net, x, y):
    with torch.no_grad():
        return float(torch.sqrt(torch.mean((net(x).squeeze(1) - y) ** 2)))


def main():
    args = parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    jan = os.path.join(args.data, "green_tripdata_2021-01.parquet")
    feb = os.path.join(args.data, "green_tripdata_2021-02.parquet")

    # 1-2. Data and features, through the C++ libraries.
    t0 = time.time()
    train, y_train, report = bimride.eta_dataset(bimride.read_trips(jan, report=True))
    valid, y_valid, _ = bimride.eta_dataset(bimride.read_trips(feb))
    context = bimride.EtaContext.build(train, "with_distance")
    x_train, names = bimride.eta_features(context, train)
    x_valid, _ = bimride.eta_features(context, valid)
    print(f"data: {train.rows} train / {valid.rows} valid rows, {len(names)} features "
          f"({context.feature_spec}) in {time.time() - t0:.1f} s; {report['text']}")

    # 3. A small PyTorch net, tracked.
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    xv, yv = torch.from_numpy(x_valid), torch.from_numpy(y_valid)
    std = x_train.std(axis=0)
    net = EtaNet(x_train.mean(axis=0), np.where(std > 0, std, 1).astype(np.float32))
    params = {"model": "python_mlp", "hidden": "128,64", "lr": 0.003, "batch_size": 512,
              "epochs": args.epochs, "seed": args.seed, "features": context.feature_spec}
    scratch = tempfile.TemporaryDirectory(prefix="bimride-research-")
    repo = args.repo or scratch.name
    code_dir = os.path.dirname(os.path.abspath(__file__))
    with bimride.start_run("eta", params, tags={"notebook": "examples/research_in_python.py"},
                           data=[jan, feb], data_filter=report["filter"], repo=repo,
                           code_dir=code_dir) as run:
        opt = torch.optim.Adam(net.parameters(), lr=params["lr"])
        for epoch in range(1, args.epochs + 1):
            net.train()
            order = torch.randperm(len(xt))
            for start in range(0, len(xt), params["batch_size"]):
                idx = order[start:start + params["batch_size"]]
                loss = torch.mean((net(xt[idx]).squeeze(1) - yt[idx]) ** 2)
                opt.zero_grad()
                loss.backward()
                opt.step()
            net.eval()
            metrics = {"train_rmse": rmse(net, xt, yt), "val_rmse": rmse(net, xv, yv)}
            run.log_metrics(metrics, step=epoch)
            print(f"epoch {epoch}: train RMSE {metrics['train_rmse']:.3f}, "
                  f"val RMSE {metrics['val_rmse']:.3f} min")

        # 4. Publish TorchScript with the feature context; the server builds the same features.
        script = torch.jit.script(net.eval())
        manifest = bimride.publish(script, "eta_py", feature_context=context, run=run,
                                   metrics=metrics, output_name="eta_minutes", label="stable",
                                   why="trained in examples/research_in_python.py")
    print(f"published eta_py version {manifest['version']} (run {run.run_id}) to {repo}")

    # 5. Serve it and compare served predictions with the notebook's on real February rows.
    rows = np.random.default_rng(args.seed).choice(valid.rows, args.check_rows, replace=False)
    times = valid["pickup_time"][rows].astype("datetime64[s]")
    instances = [{"pickup_zone": int(valid["pickup_zone"][i]),
                  "dropoff_zone": int(valid["dropoff_zone"][i]),
                  "pickup_datetime": str(t).replace("T", " "),
                  "trip_distance": float(valid["distance_miles"][i])} for i, t in zip(rows, times)]
    with torch.no_grad():
        notebook = script(xv[rows]).squeeze(1).numpy()
    with bimride.serving.serve(repo) as server:
        served = np.array(server.predict("eta_py", instances, label="stable"),
                          dtype=np.float32).reshape(-1)
    diff = np.abs(served - notebook)
    exact = int(np.sum(served == notebook))
    print(f"served vs notebook on {len(rows)} real rows: {exact} bit-identical, "
          f"max |diff| {diff.max():.3g} min (mean prediction {notebook.mean():.2f} min)")
    # The server runs the same TorchScript file, frozen and optimised for inference by LibTorch;
    # fused kernels may round the last bit differently, nothing more.
    if not np.allclose(served, notebook, rtol=1e-5, atol=1e-4):
        print("FAIL: served predictions differ from the notebook's", file=sys.stderr)
        return 1
    if args.repo:
        print(f"see it: bimride runs show {run.run_id} --repo {repo}; bimride models list --repo {repo}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
