"""Run tracking and the registry from Python, seen by `bimride runs` / `bimride models`
(ctest: unit, python). Models are tiny TorchScript modules made with python3-torch."""

import hashlib
import os
import shutil
import subprocess
import tempfile
import unittest

import bimride

SOURCE = os.environ.get("BIMRIDE_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURE = os.path.join(SOURCE, "tests", "data", "green_tripdata_sample.csv")
CLI = os.environ.get("BIMRIDE_CLI", "")


def scaled(factor, num_features=3):
    import torch

    class Scaled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.num_features = num_features
            self.num_outputs = 1
            self.factor = factor

        def forward(self, x):
            return x.sum(dim=1, keepdim=True) * self.factor

    return torch.jit.script(Scaled())


def cli(*args):
    p = subprocess.run([CLI, *args], capture_output=True, text=True, check=True)
    return p.stdout


class RegistryTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.repo = os.path.join(self.dir, "repo")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def test_run_records_params_metrics_by_step_data_and_commit(self):
        with bimride.start_run("eta", {"lr": 0.01, "epochs": 3}, tags={"who": "notebook"},
                               data=[FIXTURE], data_filter="1 <= duration_min <= 60",
                               repo=self.repo, code_dir=SOURCE) as run:
            for step in range(3):
                run.log_metric("val_rmse", 6.0 - step, step=step)
            run.log_metrics({"train_rmse": 4.5, "val_mae": 3.25}, step=2)
            run_id = run.run_id
        info = bimride.Registry(self.repo).run(run_id)
        self.assertEqual(info["status"], "FINISHED")
        self.assertEqual(info["task"], "eta")
        self.assertEqual(info["params"], {"lr": "0.01", "epochs": "3"})
        self.assertEqual(info["tags"]["who"], "notebook")
        self.assertEqual([m for m in info["metrics"] if m[0] == "val_rmse"],
                         [("val_rmse", 6.0, 0), ("val_rmse", 5.0, 1), ("val_rmse", 4.0, 2)])
        with open(FIXTURE, "rb") as f:
            self.assertEqual(info["data"]["files"][0]["sha256"], hashlib.sha256(f.read()).hexdigest())
        self.assertEqual(info["data"]["filter"], "1 <= duration_min <= 60")
        commit = subprocess.run(["git", "-C", SOURCE, "rev-parse", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
        self.assertEqual(info["git_commit"], commit)
        if CLI:
            listed = cli("runs", "list", "--repo", self.repo)
            self.assertIn(run_id[:8], listed)
            shown = cli("runs", "show", run_id, "--repo", self.repo)
            self.assertIn("val_rmse", shown)
            self.assertIn("lr", shown)

    def test_run_that_raises_ends_failed(self):
        with self.assertRaises(ZeroDivisionError):
            with bimride.start_run("eta", repo=self.repo) as run:
                1 / 0
        self.assertEqual(bimride.Registry(self.repo).run(run.run_id)["status"], "FAILED")
        with self.assertRaises(bimride.Error) as e:
            run.log_metric("late", 1.0)
        self.assertEqual(e.exception.code, "FAILED_PRECONDITION")

    def test_publish_promote_rollback(self):
        with bimride.start_run("eta", repo=self.repo) as run:
            m1 = bimride.publish(scaled(1.0), "eta_py", run=run, metrics={"val_rmse": 5.5},
                                 output_name="eta_minutes")
        self.assertEqual(m1["version"], 1)
        self.assertEqual(m1["backend"], "torchscript")
        self.assertEqual(m1["run_id"], run.run_id)
        self.assertEqual(m1["inputs"][0]["shape"], [-1, 3])
        m2 = bimride.publish(scaled(2.0), "eta_py", repo=self.repo, label="stable", why="first")
        self.assertEqual(m2["version"], 2)
        reg = bimride.Registry(self.repo)
        self.assertEqual(reg.resolve("eta_py:stable"), 2)
        moved = bimride.promote("eta_py", 1, "stable", "v2 regressed", repo=self.repo)
        self.assertEqual((moved["from_version"], moved["to_version"]), (2, 1))
        back = bimride.rollback("eta_py", "stable", "v1 was fine after all", repo=self.repo)
        self.assertEqual(back["to_version"], 2)
        self.assertEqual([h["action"] for h in reg.history("eta_py", "stable")],
                         ["rollback", "promote", "promote"])
        self.assertEqual(reg.models()[0]["labels"], {"stable": 2})
        self.assertTrue(os.path.exists(os.path.join(reg.version_dir("eta_py:1"), "model.pt")))
        with self.assertRaises(bimride.Error) as e:
            reg.resolve("eta_py:canary")
        self.assertEqual(e.exception.code, "NOT_FOUND")
        if CLI:
            listed = cli("models", "list", "--repo", self.repo)
            self.assertIn("eta_py", listed)
            cli("models", "verify", "--repo", self.repo)

    def test_xgboost_booster_published_and_served(self):
        """A Python-trained Booster, served by `bimride serve` with the XGBoost backend (or, in a
        build without XGBoost, the native tree backend reading the same file)."""
        import numpy as np
        import xgboost as xgb

        import bimride.serving
        rng = np.random.default_rng(3)
        x = rng.normal(size=(400, 4)).astype(np.float32)
        y = x[:, 0] * 2 + np.sin(x[:, 1]) + 0.1 * rng.normal(size=400)
        booster = xgb.train({"max_depth": 3, "eta": 0.3, "nthread": 1}, xgb.DMatrix(x, label=y), 20)
        backend = "xgboost" if os.environ.get("BIMRIDE_WITH_XGBOOST", "ON") == "ON" else "native_trees"
        m = bimride.publish(booster, "trees_py", task="demo", backend=backend, repo=self.repo,
                            label="stable")
        self.assertEqual((m["backend"], m["artifacts"], m["inputs"][0]["shape"]),
                         (backend, ["model.json"], [-1, 4]))
        if not CLI:
            return
        with bimride.serving.serve(self.repo) as server:
            served = server.predict("trees_py", [[float(v) for v in row] for row in x[:50]],
                                    label="stable")
        expected = booster.predict(xgb.DMatrix(x[:50]))
        np.testing.assert_allclose(np.array(served, dtype=np.float32), expected, rtol=1e-5, atol=1e-5)

    def test_publish_refuses_what_it_cannot_serve(self):
        with self.assertRaises(bimride.Error) as e:
            bimride.publish(object(), "eta_py", repo=self.repo)
        self.assertIn("cannot publish a builtins.object", str(e.exception))
        with self.assertRaises(bimride.Error) as e:
            bimride.publish(scaled(1.0), "bad name!", repo=self.repo)
        self.assertEqual(e.exception.code, "INVALID_ARGUMENT")


if __name__ == "__main__":
    unittest.main()
