"""Demand features on real green-taxi pickups: built in Python == built with the C++ trainer's
context == computed by the server from raw request fields (the feature adapter, and `bimride
serve` itself), bit for bit (ctest: data, python). Needs the shared data, the `bimride`
executable built with XGBoost (the C++ trainer publishes the context) and python3-torch (an
identity TorchScript model whose outputs are its inputs)."""

import os
import subprocess
import tempfile
import unittest

import numpy as np

import bimride
import bimride.serving
from parity_models import identity_script

DATA = os.environ.get("BIMRIDE_DATA_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "..",
                                                        "shared", "data"))
GREEN = os.path.join(DATA, "tlc_green")
JAN = os.path.join(GREEN, "green_tripdata_2021-01.parquet")
FEB = os.path.join(GREEN, "green_tripdata_2021-02.parquet")
TRAIN_BEGIN, TRAIN_END = "2021-01-04", "2021-02-01"
TEST_BEGIN, TEST_END = "2021-02-01", "2021-02-08"
GRID_END = "2021-02-15"


class DemandFeaturesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for path in (JAN, FEB):
            if not os.path.exists(path):
                raise AssertionError(f"{path}: missing (the shared data, see DATA.md)")
        cls.tmp = tempfile.TemporaryDirectory()
        cls.trips = bimride.read_trips([JAN, FEB])
        # The grid `bimride train demand --test-end` builds: the window to the end of the test
        # period, the zones with a pickup in the training period.
        cls.grid = bimride.demand_grid(cls.trips, TRAIN_BEGIN, GRID_END, zones_end=TRAIN_END)
        cls.context = bimride.DemandContext.build(cls.grid, TRAIN_BEGIN, TRAIN_END)
        # The C++ trainer on the same files publishes its context beside a (tiny) XGBoost model.
        cls.cpp_repo = os.path.join(cls.tmp.name, "cpp_repo")
        subprocess.run([bimride.serving.find_cli(), "train", "demand", "--trips", JAN, FEB,
                        "--train-begin", TRAIN_BEGIN, "--train-end", TRAIN_END,
                        "--test-begin", TEST_BEGIN, "--test-end", GRID_END,
                        "--model", "xgboost", "--xgb-rounds", "2", "--refit=false", "--target-shrink", "0",
                        "--level-augment", "0", "--repo", cls.cpp_repo, "--name", "demand_cpp"],
                       check=True, capture_output=True)
        cls.cpp_dir = bimride.Registry(cls.cpp_repo).version_dir("demand_cpp")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_grid_counts_every_pickup_of_the_window(self):
        g = self.grid
        self.assertEqual(g.counts.shape, (len(g.zones), len(g.bucket_times)))
        self.assertEqual(g.bucket_times[0], np.datetime64(TRAIN_BEGIN, "us"))
        t = self.trips["pickup_time"]
        in_window = (t >= np.datetime64(TRAIN_BEGIN)) & (t < np.datetime64(GRID_END))
        self.assertEqual(g.counts.sum() + g.dropped_zone_trips, in_window.sum())
        # A cell checked by hand: zone 74's pickups in the hour from 2021-01-05 08:00.
        zone = 74
        hour = (self.trips["pickup_zone"] == zone) & \
               (t >= np.datetime64("2021-01-05T08:00")) & (t < np.datetime64("2021-01-05T09:00"))
        b = int(np.searchsorted(g.bucket_times, np.datetime64("2021-01-05T08:00", "us")))
        self.assertEqual(g.counts[list(g.zones).index(zone), b], hour.sum())

    def test_python_context_is_the_cpp_trainers_byte_for_byte(self):
        py_dir = os.path.join(self.tmp.name, "py_context")
        self.context.save(py_dir)
        self.assertEqual(sorted(os.listdir(py_dir)), ["demand_baselines.json"])
        with open(os.path.join(py_dir, "demand_baselines.json"), "rb") as a, \
                open(os.path.join(self.cpp_dir, "demand_baselines.json"), "rb") as b:
            self.assertEqual(a.read(), b.read())

    def test_python_features_equal_served_features_bit_for_bit(self):
        rows = bimride.demand_forecast_rows(self.context, self.grid, TEST_BEGIN, TEST_END)
        x_py = rows["features"]
        names = self.context.feature_names
        hours = 7 * 24
        self.assertEqual(x_py.shape, (len(self.grid.zones) * hours, len(names)))
        self.assertEqual(rows["targets"].shape, (x_py.shape[0], self.context.horizons))
        self.assertTrue(np.isfinite(x_py).all())
        cpp_context = bimride.DemandContext.load(self.cpp_dir)
        x_cpp = bimride.demand_forecast_rows(cpp_context, self.grid, TEST_BEGIN, TEST_END)["features"]
        self.assertEqual(x_py.tobytes(), x_cpp.tobytes())

        # Publish an identity model with the C++ trainer's context: the server's adapter builds
        # the features from the raw fields a client sends, the model hands them back.
        repo = os.path.join(self.tmp.name, "repo")
        manifest = bimride.publish(identity_script(len(names)), "demand_identity", task="demand",
                                   feature_context=cpp_context, output_name="features",
                                   repo=repo, label="stable", why="feature parity test")
        self.assertEqual(manifest["feature_spec"]["name"], "demand_zone_bucket")
        version_dir = bimride.Registry(repo).version_dir("demand_identity:stable")

        picked = np.random.default_rng(7).choice(x_py.shape[0], 300, replace=False)
        instances = [bimride.demand_request(self.grid, rows["zone"][i], rows["time"][i])
                     for i in picked]
        x_adapter = bimride.serving_features(
            version_dir, {k: [r[k] for r in instances] for k in instances[0]})
        self.assertEqual(x_adapter.tobytes(), x_py[picked].tobytes())

        with bimride.serving.serve(repo) as server:
            served = server.predict("demand_identity", instances, label="stable")
        x_served = np.array([[row[f"features_{i}"] for i in range(len(names))] for row in served],
                            dtype=np.float32)
        self.assertEqual(x_served.tobytes(), x_py[picked].tobytes())

    def test_training_rows_equal_the_cpp_trainers(self):
        """The C++ trainer stores statistics of every feature over its training rows (the drift
        baseline in the manifest); Python's training rows give the same ones."""
        rows = bimride.demand_training_rows(self.context, self.grid, TRAIN_BEGIN, TRAIN_END)
        x = rows["features"]
        self.assertTrue((rows["time"] < np.datetime64(TRAIN_END)).all())
        self.assertTrue(np.isfinite(rows["targets"]).all())  # every target inside the period
        stats = bimride.Registry(self.cpp_repo).show("demand_cpp", 1)["feature_stats"]
        names = self.context.feature_names
        self.assertEqual(sorted(stats), sorted(names))
        for k, name in enumerate(names):
            with self.subTest(feature=name):
                s, col = stats[name], x[:, k].astype(np.float64)
                self.assertEqual(s["count"], len(col))
                self.assertEqual(s["min"], col.min())
                self.assertEqual(s["max"], col.max())
                self.assertAlmostEqual(s["mean"], col.mean(), delta=1e-9 * max(1, abs(col.mean())))
                np.testing.assert_allclose(s["quantiles"], np.quantile(col, s["quantile_probs"]),
                                           rtol=1e-12, atol=0)
        # Past-only baselines (an expanding window) give other features for the same origins.
        past = bimride.demand_training_rows(self.context, self.grid, TRAIN_BEGIN, TRAIN_END,
                                            out_of_fold=False)
        self.assertEqual(past["features"].shape, x.shape)
        self.assertTrue((past["time"] == rows["time"]).all())
        zone_mean = names.index("zone_mean")
        self.assertFalse(np.array_equal(past["features"][:, zone_mean], x[:, zone_mean]))

    def test_bad_inputs_raise_our_messages(self):
        with self.assertRaises(bimride.Error) as e:
            bimride.demand_grid(self.trips, "2021-13-01", GRID_END)
        self.assertEqual(e.exception.code, "INVALID_ARGUMENT")
        self.assertIn("begin: '2021-13-01' is not a time", str(e.exception))
        with self.assertRaises(bimride.Error) as e:
            bimride.demand_grid(self.trips, "2030-01-01", "2030-02-01")
        self.assertEqual(e.exception.code, "NOT_FOUND")
        self.assertIn("no pickup in [2030-01-01", str(e.exception))
        with self.assertRaises(bimride.Error) as e:
            bimride.demand_request(self.grid, 999, "2021-02-03 08:00")
        self.assertIn("zone 999 is not in the grid", str(e.exception))
        with self.assertRaises(bimride.Error) as e:
            bimride.demand_request(self.grid, self.grid.zones[0], "2021-01-05 08:00")
        self.assertIn("does not hold the week of counts before it", str(e.exception))
        with self.assertRaises(bimride.Error) as e:
            bimride.DemandContext.build(self.grid, TRAIN_BEGIN, TRAIN_END, horizons=0)
        self.assertEqual(e.exception.code, "INVALID_ARGUMENT")
        with self.assertRaises(bimride.Error) as e:
            bimride.DemandContext.load(os.path.join(self.tmp.name, "nowhere"))
        self.assertIn("demand_baselines.json", str(e.exception))
        # The server's own message for a bad request field.
        with self.assertRaises(bimride.Error) as e:
            bimride.serving_features(self.cpp_dir, {"zone": [74], "time": ["2021-02-03 08:00"],
                                                    "recent_counts": ["1,2,x"]})
        self.assertIn("row 0: field 'recent_counts'", str(e.exception))


if __name__ == "__main__":
    unittest.main()
