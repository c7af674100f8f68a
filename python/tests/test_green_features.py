"""ETA features on real green-taxi rows: built in Python == built by the C++ trainer == served by
`bimride serve`, bit for bit (ctest: data, python). Needs the shared data, the `bimride`
executable and python3-torch (for an identity TorchScript model whose outputs are its inputs)."""

import json
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


def raw_instances(trips, rows):
    """What a client sends for these rows (the manifest's request fields)."""
    times = trips["pickup_time"][rows].astype("datetime64[s]")
    return [{"pickup_zone": int(trips["pickup_zone"][i]), "dropoff_zone": int(trips["dropoff_zone"][i]),
             "pickup_datetime": str(t).replace("T", " "),
             "trip_distance": float(trips["distance_miles"][i])} for i, t in zip(rows, times)]


class GreenFeaturesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(JAN):
            raise AssertionError(f"{JAN}: missing (the shared data, see DATA.md)")
        cls.tmp = tempfile.TemporaryDirectory()
        jan = bimride.read_trips(JAN)
        cls.train, cls.minutes, cls.report = bimride.eta_dataset(jan)
        cls.valid, _, _ = bimride.eta_dataset(bimride.read_trips(FEB))
        cls.context = bimride.EtaContext.build(cls.train, "with_distance")
        # The C++ trainer on the same files (the baseline trains in seconds; its context is
        # what every ETA trainer saves into the model folder).
        cls.cpp_dir = os.path.join(cls.tmp.name, "cpp_model")
        subprocess.run([bimride.serving.find_cli(), "train", "eta", "--train", JAN, "--valid", FEB,
                        "--model", "baseline", "--features", "with-distance", "--out", cls.cpp_dir,
                        "--no-publish", "--repo", os.path.join(cls.tmp.name, "cpp_repo")],
                       check=True, capture_output=True)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_dataset_filter_matches_report(self):
        r = self.report
        self.assertEqual(r["kept"], self.train.rows)
        self.assertEqual(len(self.minutes), self.train.rows)
        self.assertTrue(((self.minutes >= 1) & (self.minutes <= 60)).all())
        self.assertEqual(r["loaded"], r["kept"] + r["removed_too_short"] + r["removed_too_long"]
                         + r["removed_no_duration"] + r["removed_unknown_zone"])

    def test_python_context_is_the_cpp_trainers_byte_for_byte(self):
        py_dir = os.path.join(self.tmp.name, "py_context")
        self.context.save(py_dir)
        for name in sorted(os.listdir(py_dir)):
            with open(os.path.join(py_dir, name), "rb") as a, \
                    open(os.path.join(self.cpp_dir, name), "rb") as b:
                self.assertEqual(a.read(), b.read(), name)

    def test_python_features_equal_served_features_bit_for_bit(self):
        cpp_context = bimride.EtaContext.load(self.cpp_dir)
        x_py, names = bimride.eta_features(self.context, self.valid)
        x_cpp_context, _ = bimride.eta_features(cpp_context, self.valid)
        self.assertEqual(x_py.shape, (self.valid.rows, len(names)))
        self.assertEqual(x_py.tobytes(), x_cpp_context.tobytes())

        # Publish an identity model with the C++ trainer's context; the server's adapter builds
        # the features from raw request fields, the model hands them back.
        repo = os.path.join(self.tmp.name, "repo")
        manifest = bimride.publish(identity_script(len(names)), "eta_identity",
                                   feature_context=cpp_context, output_name="features",
                                   repo=repo, label="stable", why="feature parity test")
        self.assertEqual(manifest["feature_spec"]["name"], "eta_with_distance")
        version_dir = bimride.Registry(repo).version_dir("eta_identity:stable")

        rows = np.random.default_rng(20).choice(self.valid.rows, 300, replace=False)
        instances = raw_instances(self.valid, rows)
        x_adapter = bimride.serving_features(
            version_dir, {k: [r[k] for r in instances] for k in instances[0]})
        self.assertEqual(x_adapter.tobytes(), x_py[rows].tobytes())

        with bimride.serving.serve(repo) as server:
            served = server.predict("eta_identity", instances, label="stable")
        # One output tensor of width F: the server names its columns features_0 … features_<F-1>.
        x_served = np.array([[row[f"features_{i}"] for i in range(len(names))] for row in served],
                            dtype=np.float32)
        self.assertEqual(x_served.shape, (len(rows), len(names)))
        self.assertEqual(x_served.tobytes(), x_py[rows].tobytes())

    def test_bad_request_field_raises_the_servers_message(self):
        x, _ = bimride.eta_features(self.context, self.valid)
        repo = os.path.join(self.tmp.name, "repo_bad")
        bimride.publish(identity_script(x.shape[1]), "eta_identity", feature_context=self.context,
                        repo=repo)
        version_dir = bimride.Registry(repo).version_dir("eta_identity")
        with self.assertRaises(bimride.Error) as e:
            bimride.serving_features(version_dir, {"pickup_zone": [74], "dropoff_zone": [999],
                                                   "pickup_datetime": ["2021-02-10 08:30:00"],
                                                   "trip_distance": [2.0]})
        self.assertEqual(e.exception.code, "INVALID_ARGUMENT")
        self.assertIn("row 0: field 'dropoff_zone'", str(e.exception))


if __name__ == "__main__":
    unittest.main()
