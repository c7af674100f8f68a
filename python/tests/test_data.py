"""bimride's data functions on the checked-in fixtures and temporary files (ctest: unit, python)."""

import ast
import os
import shutil
import subprocess
import tempfile
import unittest

import numpy as np

import bimride

SOURCE = os.environ.get("BIMRIDE_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(SOURCE, "tests", "data")
CLI = os.environ.get("BIMRIDE_CLI", "")


def cli_error(*args):
    """The one-line error `bimride` prints for the same input, without its "bimride: " prefix."""
    if not CLI:  # run by hand, outside ctest
        return None
    p = subprocess.run([CLI, *args], capture_output=True, text=True)
    assert p.returncode == 1, p
    line = p.stderr.strip().splitlines()[-1]
    return line.split(": ", 1)[1]


class TripsTest(unittest.TestCase):
    def test_reads_csv_fixture_into_typed_arrays(self):
        trips = bimride.read_trips(os.path.join(FIXTURES, "green_tripdata_sample.csv"), validate=False)
        self.assertEqual(trips.source, "tlc_green")
        self.assertEqual(list(trips), bimride.trip_columns())
        self.assertEqual(trips["pickup_time"].dtype, np.dtype("datetime64[us]"))
        self.assertEqual(trips["pickup_zone"].dtype, np.int32)
        self.assertEqual(trips["distance_miles"].dtype, np.float32)
        self.assertEqual(trips["pickup_time"][0], np.datetime64("2021-01-01T00:15:56"))
        self.assertEqual(trips["pickup_zone"][:2].tolist(), [43, 166])
        self.assertEqual(trips["fare"][1], np.float32(10))
        self.assertTrue(np.isnan(trips["pickup_lon"]).all())  # zone source: no coordinates

    def test_arrays_own_the_cpp_buffers(self):
        trips = bimride.read_trips(os.path.join(FIXTURES, "green_tripdata_sample.csv"), validate=False)
        fare = trips["fare"]
        self.assertFalse(fare.flags.owndata)  # a view of the C++ vector, kept alive by its base
        self.assertIsNotNone(fare.base)
        del trips
        self.assertEqual(fare[1], np.float32(10))

    def test_columns_select_and_order(self):
        trips = bimride.read_trips(os.path.join(FIXTURES, "green_tripdata_sample.csv"),
                                   columns=["fare", "pickup_zone"], validate=False)
        self.assertEqual(list(trips), ["fare", "pickup_zone"])
        with self.assertRaises(bimride.Error) as e:
            bimride.read_trips(os.path.join(FIXTURES, "green_tripdata_sample.csv"), columns=["fair"])
        self.assertIn("unknown trip column 'fair'", str(e.exception))
        self.assertEqual(e.exception.code, "INVALID_ARGUMENT")

    def test_columns_of_unvalidated_parquet_are_the_full_reads_columns(self):
        if not CLI:
            self.skipTest("needs the bimride executable (BIMRIDE_CLI) to write the Parquet file")
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "sample.parquet")
            subprocess.run([CLI, "data", "convert", os.path.join(FIXTURES, "green_tripdata_sample.csv"),
                            path], check=True, capture_output=True)
            full = bimride.read_trips(path, validate=False)
            some = bimride.read_trips(path, columns=["fare", "pickup_time", "pickup_zone"],
                                      validate=False)
            self.assertEqual(list(some), ["fare", "pickup_time", "pickup_zone"])
            self.assertGreater(len(some["fare"]), 0)
            for c in some:
                np.testing.assert_array_equal(some[c], full[c])
            with self.assertRaises(bimride.Error) as e:
                bimride.read_trips(path, columns=["fare", "pickup_time_us"], validate=False)
            self.assertIn("unknown trip column 'pickup_time_us'", str(e.exception))

    def test_validation_report_counts_every_row(self):
        trips = bimride.read_trips(os.path.join(FIXTURES, "green_malformed.csv"), report=True)
        r = trips.report
        self.assertEqual(r["read"], r["kept"] + r["quarantined"])
        self.assertEqual(r["kept"], trips.rows)
        self.assertGreater(r["per_rule"]["malformed_record"], 0)
        self.assertEqual(sum(r["per_rule"].values()), r["quarantined"])
        self.assertEqual(r["files"][0]["format"], "tlc_green")
        self.assertIn("kept", r["text"])

    def test_layout_file(self):
        with tempfile.TemporaryDirectory() as d:
            layout = os.path.join(d, "uber.json")
            with open(layout, "w") as f:
                f.write('{"columns": {"pickup_time": "Date/Time", "pickup_lat": "Lat", '
                        '"pickup_lon": "Lon"}}')
            trips = bimride.read_trips(os.path.join(FIXTURES, "uber_apr14_head.csv"), layout=layout,
                                       validate=False, zones_dir=None)
            self.assertEqual(trips.rows, 5)
            self.assertAlmostEqual(float(trips["pickup_lat"][0]), 40.769, places=6)
            with open(layout, "w") as f:
                f.write('{"columns": {"pickup_time": {"column": "Date/Time", "fromat": "%m"}}}')
            with self.assertRaises(bimride.Error) as e:
                bimride.read_trips(os.path.join(FIXTURES, "uber_apr14_head.csv"), layout=layout)
            self.assertIn("columns.pickup_time.fromat: unknown key", str(e.exception))

    def test_pandas_helper(self):
        trips = bimride.read_trips(os.path.join(FIXTURES, "green_tripdata_sample.csv"), validate=False)
        df = trips.to_pandas()
        self.assertEqual(len(df), trips.rows)
        self.assertEqual(df["pickup_time"].iloc[0], np.datetime64("2021-01-01T00:15:56"))
        self.assertEqual(df["pickup_zone"].tolist(), trips["pickup_zone"].tolist())


class BadFilesTest(unittest.TestCase):
    """Bad files raise bimride.Error carrying the libraries' own message (the CLI's)."""

    def setUp(self):
        self.dir = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.dir)

    def check(self, path, code, words):
        with self.assertRaises(bimride.Error) as e:
            bimride.read_trips(path)
        message = str(e.exception)
        self.assertEqual(e.exception.code, code)
        self.assertTrue(message.startswith(path), message)
        self.assertIn(words, message)
        expected = cli_error("data", "inspect", path)
        if expected is not None:
            self.assertEqual(message, expected)
        with self.assertRaises(bimride.Error) as again:
            bimride.inspect(path)
        self.assertEqual(str(again.exception), message)

    def test_missing(self):
        self.check(os.path.join(self.dir, "green_tripdata_2021-01.parquet"), "NOT_FOUND", "no such file")

    def test_truncated(self):
        path = os.path.join(self.dir, "cut.parquet")
        with open(os.path.join(FIXTURES, "arrow_rs_v1_dict_uncompressed.parquet"), "rb") as f:
            data = f.read()
        with open(path, "wb") as f:
            f.write(data[: len(data) // 2])
        self.check(path, "DATA_LOSS", "")

    def test_not_parquet(self):
        path = os.path.join(self.dir, "notes.parquet")
        with open(path, "w") as f:
            f.write("this is a text file, not Parquet\n")
        self.check(path, "DATA_LOSS", "not a Parquet file")

    def test_read_parquet_bad_file(self):
        path = os.path.join(self.dir, "notes.parquet")
        with open(path, "w") as f:
            f.write("hello")
        with self.assertRaises(bimride.Error) as e:
            bimride.read_parquet(path)
        self.assertTrue(str(e.exception).startswith(path))
        self.assertIsInstance(e.exception, Exception)


class ParquetTest(unittest.TestCase):
    def test_round_trip_of_every_column_kind(self):
        cols = {
            "b": np.array([True, False, True]),
            "i8": np.array([1, -2, 3], dtype=np.int8),
            "i32": np.array([1, 2, -3], dtype=np.int32),
            "i64": np.array([2**40, -1, 0], dtype=np.int64),
            "f32": np.array([1.5, np.nan, -0.0], dtype=np.float32),
            "f64": np.array([np.pi, np.inf, 1e-300]),
            "t": np.array(["2021-01-01T00:00:01.5", "NaT", "1970-01-01"], dtype="datetime64[us]"),
            "tn": np.array(["2021-01-01T00:00:00.000000001", "NaT", "2000-01-01"], dtype="datetime64[ns]"),
            "s": np.array(["zone", None, "é"], dtype=object),
            "raw": np.array([b"\x00\x01", b"", None], dtype=object),
        }
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "x.parquet")
            for codec in ("zstd", "snappy", "gzip", "uncompressed"):
                self.assertEqual(bimride.write_parquet(path, cols, codec=codec, row_group_rows=2), 3)
                back = bimride.read_parquet(path)
                self.assertEqual(list(back), list(cols))
                for name, values in cols.items():
                    got = back[name]
                    if values.dtype.kind == "f":
                        self.assertEqual(got.dtype, values.dtype)
                        np.testing.assert_array_equal(got, values)  # NaN == NaN here
                    elif values.dtype.kind == "M":
                        self.assertEqual(got.dtype, values.dtype)
                        np.testing.assert_array_equal(got, values)
                    elif values.dtype.kind == "O":
                        self.assertEqual(got.tolist(), values.tolist())
                    else:
                        self.assertEqual(got.tolist(), values.tolist(), name)
            self.assertEqual(list(bimride.read_parquet(path, columns=["s", "b"])), ["s", "b"])
            with self.assertRaises(bimride.Error) as e:
                bimride.read_parquet(path, columns=["nope"])
            self.assertIn("'nope'", str(e.exception))
            self.assertEqual(e.exception.code, "NOT_FOUND")

    def test_reads_another_writers_file(self):
        """arrow-rs wrote it (tests/data/README.md): nulls, unsigned ints, dates, ns times."""
        d = bimride.read_parquet(os.path.join(FIXTURES, "arrow_rs_v2_fallback_zstd.parquet"))
        self.assertEqual(len(d), 13)
        self.assertEqual({len(v) for v in d.values()}, {40})
        u32 = d["u32_opt"]  # UINT_32 with nulls: float64, never negative
        self.assertEqual(u32.dtype, np.float64)
        self.assertTrue(np.isnan(u32).any())
        self.assertTrue((u32[~np.isnan(u32)] >= 0).all())
        self.assertEqual(d["date_opt"].dtype, np.dtype("datetime64[D]"))
        self.assertTrue(np.isnat(d["date_opt"]).any())
        self.assertEqual(d["ts_ns"].dtype, np.dtype("datetime64[ns]"))
        self.assertEqual(d["i64_req"].dtype, np.int64)
        self.assertIn(None, d["str_opt"].tolist())
        self.assertTrue(all(v is None or isinstance(v, str) for v in d["str_opt"]))
        self.assertTrue(all(isinstance(v, bytes) and len(v) == 7 for v in d["fixed7_opt"] if v is not None))

    def test_pandas_frame_and_trip_reader(self):
        import pandas as pd
        df = pd.DataFrame({
            "source": ["tlc_green", "tlc_green"],
            "pickup_time": pd.to_datetime(["2021-01-05 08:00:00", "2021-01-05 09:00:00"]),
            "dropoff_time": pd.to_datetime(["2021-01-05 08:12:00", "2021-01-05 09:30:00"]),
            "pickup_zone": np.array([74, 75], dtype=np.int32),
            "dropoff_zone": np.array([236, 42], dtype=np.int32),
            "distance_miles": np.array([2.5, 7.25], dtype=np.float32),
        })
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "mine.parquet")
            bimride.write_parquet(path, df)
            trips = bimride.read_trips(path, validate=False)  # this project's layout
            self.assertEqual(trips["pickup_zone"].tolist(), [74, 75])
            self.assertEqual(trips["distance_miles"].tolist(), [2.5, 7.25])
            np.testing.assert_array_equal(trips["dropoff_time"],
                                          df["dropoff_time"].to_numpy().astype("datetime64[us]"))
            info = bimride.inspect(path, validate=False)
            self.assertEqual(info["rows"], 2)
            self.assertEqual([c["name"] for c in info["schema"]], list(df.columns))
            self.assertIsNone(info["report"])
            self.assertIn("pickup_zone", info["text"])

    def test_unwritable_column_is_an_error(self):
        with tempfile.TemporaryDirectory() as d:
            with self.assertRaises(bimride.Error) as e:
                bimride.write_parquet(os.path.join(d, "x.parquet"), {"c": np.array([1 + 2j])})
            self.assertIn("column 'c': dtype complex128 cannot be written", str(e.exception))
            with self.assertRaises(bimride.Error) as e:
                bimride.write_parquet(os.path.join(d, "x.parquet"), {"s": np.array(["a", 3], dtype=object)})
            self.assertIn("column 's': row 1: int", str(e.exception))


class StubTest(unittest.TestCase):
    def test_the_stub_declares_every_public_name(self):
        """An editor completes from bimride/__init__.pyi: it must declare all of __all__."""
        stub = os.path.join(os.path.dirname(bimride.__file__), "__init__.pyi")
        with open(stub) as f:
            tree = ast.parse(f.read())
        declared = set()
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                declared.add(node.name)
            elif isinstance(node, ast.Assign):
                declared.update(t.id for t in node.targets if isinstance(t, ast.Name))
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                declared.add(node.target.id)
            elif isinstance(node, ast.ImportFrom):
                declared.update(a.asname or a.name for a in node.names)
        self.assertEqual(sorted(set(bimride.__all__) - declared), [])


if __name__ == "__main__":
    unittest.main()
