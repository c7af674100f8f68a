#!/usr/bin/python3
"""Peer for the `bimride simulate` benchmark: a deliberately simple numpy/pandas generator that
writes the same number of rows with the same trip columns as `bimride simulate`'s trips file.

It has none of the simulator's model (no seasonality, gravity, supply, surge, price response,
no sidecar files): uniform random times/zones, lognormal distances, a tariff formula. It measures
the floor cost of producing and writing such a CSV from Python, i.e. it flatters the peer.

usage: simulate_peer.py --rows N --out FILE [--seed S]
"""
import argparse

import numpy as np
import pandas as pd


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--zones", type=int, default=120)
    a = p.parse_args()
    n = a.rows
    rng = np.random.default_rng(a.seed)
    start = np.datetime64("2024-03-04T00:00:00")
    pickup = start + np.sort(rng.integers(0, a.days * 86400, n)).astype("timedelta64[s]")
    miles = np.round(rng.lognormal(1.1, 0.8, n), 2)
    minutes = 1.5 + miles / 0.621371 * 60 / 20 * rng.lognormal(0, 0.25, n)
    dropoff = pickup + np.round(minutes * 60).astype("timedelta64[s]")
    surge = np.round(np.maximum(1.0, rng.normal(1.1, 0.3, n)), 1)
    fare = np.round(np.maximum(7.0, 2.5 + 1.1 * miles / 0.621371 + 0.4 * minutes) * surge, 2)
    df = pd.DataFrame({
        "trip_id": np.arange(1, n + 1),
        "rider_id": rng.integers(1, 150 * a.zones + 1, n),
        "pickup_datetime": pickup,
        "dropoff_datetime": dropoff,
        "pickup_zone": rng.integers(1, a.zones + 1, n),
        "dropoff_zone": rng.integers(1, a.zones + 1, n),
        "pickup_lon": np.round(-73.985 + rng.normal(0, 0.08, n), 6),
        "pickup_lat": np.round(40.748 + rng.normal(0, 0.06, n), 6),
        "dropoff_lon": np.round(-73.985 + rng.normal(0, 0.08, n), 6),
        "dropoff_lat": np.round(40.748 + rng.normal(0, 0.06, n), 6),
        "trip_distance": miles,
        "fare_amount": fare,
        "surge_multiplier": surge,
        "total_amount": np.round(fare * 1.08875 + 2.75, 2),
        "passenger_count": rng.choice([1, 1, 1, 1, 1, 1, 1, 2, 2, 3], n),
    })
    df.to_csv(a.out, index=False, date_format="%Y-%m-%d %H:%M:%S")


if __name__ == "__main__":
    main()
