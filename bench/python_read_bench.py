#!/usr/bin/python3
"""bimride.read_trips on the eight shared green Parquet files, against pandas.read_csv on the
same data as CSV (Debian's pandas, engine='c': there is no pyarrow in Debian) and against the C++
reads of bench/trip_read_bench (LoadTrips: the call read_trips makes; ReadTripsParquet per file),
measured in the same run. Best of N after a warm-up; wall time and this thread's CPU time (the
steadier figure on a shared machine). Results: BENCHMARKS.md, "Python: read_trips".

    cmake --build build --target bimride_python bimride_python_files trip_read_bench
    PYTHONPATH=build/python /usr/bin/python3 bench/python_read_bench.py [--reps 5]
"""

import argparse
import os
import re
import subprocess
import sys
import time

import warnings

import numpy as np
import pandas as pd

import bimride

MONTHS = ["2021-01", "2021-02", "2021-03", "2022-01", "2022-02", "2023-01", "2023-02", "2023-03"]
# The columns a TripTable takes from a green file (what trip_read_bench calls "the 9 needed").
NEEDED = ["VendorID", "lpep_pickup_datetime", "lpep_dropoff_datetime", "PULocationID",
          "DOLocationID", "passenger_count", "trip_distance", "fare_amount", "total_amount"]
TIMES = ["lpep_pickup_datetime", "lpep_dropoff_datetime"]


def best(reps, fn):
    fn()  # warm-up: page cache, allocator
    wall, cpu = 1e9, 1e9
    for _ in range(reps):
        w, c = time.perf_counter(), time.thread_time()
        fn()
        cpu = min(cpu, time.thread_time() - c)
        wall = min(wall, time.perf_counter() - w)
    return wall, cpu


def write_csvs(files, folder):
    """The same data as CSV, written once (our Parquet reader → pandas → to_csv)."""
    os.makedirs(folder, exist_ok=True)
    out = []
    for f in files:
        path = os.path.join(folder, os.path.basename(f).replace(".parquet", ".csv"))
        if not os.path.exists(path):
            pd.DataFrame(bimride.read_parquet(f)).to_csv(path + ".tmp", index=False)
            os.replace(path + ".tmp", path)
        out.append(path)
    return out


def cpp_figures(exe, data):
    """(wall, cpu) seconds of trip_read_bench's LoadTrips and TripTable lines."""
    text = subprocess.run([exe, data], capture_output=True, text=True, check=True).stdout
    figures = {}
    for key, pattern in (("load", r"LoadTrips \(.*"), ("table", r"TripTable \(ReadTripsParquet.*")):
        line = re.search(pattern, text).group(0)
        ms = [float(v) for v in re.findall(r"([\d.]+) ms", line)]
        figures[key] = (ms[0] / 1e3, ms[1] / 1e3)
    return figures


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=bimride.default_data_path("") or
                   os.path.join(here, "..", "..", "shared", "data"))
    p.add_argument("--cpp", default=os.path.join(here, "..", "build", "bench", "trip_read_bench"))
    p.add_argument("--csv-dir", default=os.path.join(here, "..", "build", "bench-python", "green_csv"))
    p.add_argument("--reps", type=int, default=5)
    args = p.parse_args()
    warnings.simplefilter("ignore", pd.errors.DtypeWarning)  # store_and_fwd_flag: Y/N and blanks
    files = [os.path.join(args.data, "tlc_green", f"green_tripdata_{m}.parquet") for m in MONTHS]
    csvs = write_csvs(files, args.csv_dir)

    rows = bimride.read_trips(files, validate=False).rows
    results = []

    def add(what, fn, reps=args.reps):
        results.append((what, *best(reps, fn)))

    add("bimride.read_trips(validate=False)", lambda: bimride.read_trips(files, validate=False))
    add("bimride.read_trips (validated, as the CLI reads)", lambda: bimride.read_trips(files))
    add("pandas.read_csv, the 9 columns, dates parsed",
        lambda: [pd.read_csv(f, usecols=NEEDED, parse_dates=TIMES, engine="c") for f in csvs], 3)
    add("pandas.read_csv, all 20 columns, dates parsed",
        lambda: [pd.read_csv(f, parse_dates=TIMES, engine="c") for f in csvs], 3)
    cpp = cpp_figures(args.cpp, args.data)
    results.append(("C++ LoadTrips (same call, no validation; trip_read_bench)", *cpp["load"]))
    results.append(("C++ ReadTripsParquet per file (trip_read_bench)", *cpp["table"]))

    base_cpu = results[0][2]
    csv_mb = sum(os.path.getsize(f) for f in csvs) / 1e6
    print(f"eight green files: {rows} rows; Parquet {sum(os.path.getsize(f) for f in files) / 1e6:.1f} MB, "
          f"CSV {csv_mb:.1f} MB; numpy {np.__version__}, pandas {pd.__version__}; best of "
          f"{args.reps} (pandas 3)")
    print(f"  {'':58s} {'wall':>9s} {'CPU':>9s} {'CPU / read_trips':>17s}")
    for what, wall, cpu in results:
        print(f"  {what:58s} {wall * 1e3:6.1f} ms {cpu * 1e3:6.1f} ms {cpu / base_cpu:16.2f}x")
    load_cpu = cpp["load"][1]
    print(f"  read_trips / C++ LoadTrips: {base_cpu / load_cpu:.2f}x CPU, "
          f"{results[0][1] / cpp['load'][0]:.2f}x wall (goal <= 1.2x)")
    pandas_cpu = results[2][2]
    print(f"  pandas (9 columns) / read_trips: {pandas_cpu / base_cpu:.1f}x CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
