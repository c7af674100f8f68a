#!/usr/bin/env python3
"""Python reference models for ETA on exactly the rows `bimride train eta` evaluates
(scikit-learn / XGBoost, as the issue's public baselines): trips validated by `bimride data
convert`, 1 <= duration <= 60 min.
  - linear regression on one-hot zone pair + trip_distance (DictVectorizer);
  - XGBoost (hist) on pickup/dropoff zone ids, trip_distance, hour, weekday, passengers;
  - booking-time XGBoost: the same without trip_distance.
XGBoost stops early on the validation month (the same protocol as ours).
usage: eta_python_reference.py TRAIN.csv VALID.csv   (from `bimride data convert X.parquet X.csv`)
"""
import sys

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LinearRegression
from sklearn.metrics import mean_squared_error


def load(path):
    df = pd.read_csv(path, parse_dates=["pickup_time", "dropoff_time"])
    df["duration"] = (df.dropoff_time - df.pickup_time).dt.total_seconds() / 60
    df = df[(df.duration >= 1) & (df.duration <= 60)].copy()
    df["hour"] = df.pickup_time.dt.hour
    df["weekday"] = df.pickup_time.dt.weekday
    return df


def rmse(y, p):
    return float(np.sqrt(mean_squared_error(y, p)))


def main():
    train, valid = load(sys.argv[1]), load(sys.argv[2])
    print(f"rows: train {len(train)}, valid {len(valid)}")
    for df in (train, valid):
        df["PU_DO"] = df.pickup_zone.astype(str) + "_" + df.dropoff_zone.astype(str)
    dv = DictVectorizer()
    xt = dv.fit_transform(train[["PU_DO", "distance_miles"]].to_dict(orient="records"))
    xv = dv.transform(valid[["PU_DO", "distance_miles"]].to_dict(orient="records"))
    lr = LinearRegression().fit(xt, train.duration.values)
    print(f"python linear regression (one-hot zone pair + distance): RMSE {rmse(valid.duration, lr.predict(xv)):.3f}")
    for name, cols in (("with distance", ["pickup_zone", "dropoff_zone", "distance_miles", "hour", "weekday", "passengers"]),
                       ("booking", ["pickup_zone", "dropoff_zone", "hour", "weekday", "passengers"])):
        dt = xgb.DMatrix(train[cols].astype(float).values, label=train.duration.values)
        dvv = xgb.DMatrix(valid[cols].astype(float).values, label=valid.duration.values)
        params = {"tree_method": "hist", "max_depth": 8, "eta": 0.05, "subsample": 0.8,
                  "colsample_bytree": 0.8, "min_child_weight": 5, "objective": "reg:squarederror",
                  "nthread": 2, "seed": 0}
        b = xgb.train(params, dt, 3000, evals=[(dvv, "valid")], early_stopping_rounds=50, verbose_eval=False)
        p = b.predict(dvv, iteration_range=(0, b.best_iteration + 1))
        print(f"python xgboost {name} ({', '.join(cols)}): RMSE {rmse(valid.duration, p):.3f} (best round {b.best_iteration + 1})")


if __name__ == "__main__":
    main()
