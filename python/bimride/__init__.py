"""BimRide ML for Python research: the C++ system's own data readers, features, run tracking
and model registry, so a notebook reads, featurises, tracks and publishes exactly as
`bimride train` and `bimride serve` do.

    import bimride
    trips = bimride.read_trips(["green_tripdata_2021-01.parquet"])      # dict of NumPy arrays
    ctx = bimride.EtaContext.build(trips, "with_distance")              # learned from training rows
    X, names = bimride.eta_features(ctx, trips)                         # float32 rows, names
    with bimride.start_run("eta", params={"lr": 0.01}) as run:
        run.log_metric("val_rmse", 5.3, step=1)
    bimride.publish(script_module, "eta_py", feature_context=ctx, run=run)

Every library error is raised as `bimride.Error` with the library's message (the one the
`bimride` command prints) and `.code`, the status code name.

Conventions of trip columns (see `trip_columns()`): times are `datetime64[us]` of naive local
time (NaT when missing), zones int32 (0 unknown), coordinates float64 and money/distance float32
(NaN when missing), passengers/vendor int16 and rider_id int64 (-1 when missing).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import _bimride
from ._bimride import Error, default_data_path, default_repository, trip_columns

__all__ = [
    "Error", "Trips", "read_trips", "inspect", "to_pandas", "read_parquet", "write_parquet",
    "trip_columns", "EtaContext", "eta_dataset", "eta_features", "serving_features",
    "DemandGrid", "DemandContext", "demand_grid", "demand_forecast_rows", "demand_training_rows",
    "demand_request",
    "Registry", "Run", "start_run", "publish", "promote", "rollback", "default_repository",
    "default_data_path",
]

__version__ = _bimride.__version__

PathLike = Union[str, os.PathLike]


def _paths(files: Union[PathLike, Iterable[PathLike]]) -> List[str]:
    if isinstance(files, (str, os.PathLike)):
        return [os.fspath(files)]
    return [os.fspath(f) for f in files]


# ---------------------------------------------------------------------------------------- data


class Trips(dict):
    """Trip columns by name (a dict of NumPy arrays) plus where they came from.

    `source` is the trip source ("tlc_green", "simulator", …; features depend on it), `report`
    the validation report when read with `report=True` (else None).
    """

    def __init__(self, columns: Mapping[str, np.ndarray], source: str = "unknown",
                 report: Optional[dict] = None):
        super().__init__(columns)
        self.source = source
        self.report = report

    @property
    def rows(self) -> int:
        return len(next(iter(self.values()))) if self else 0

    def to_pandas(self):
        """The columns as a pandas DataFrame (pandas copies them)."""
        return to_pandas(self)


def read_trips(files: Union[PathLike, Iterable[PathLike]], columns: Optional[Sequence[str]] = None,
               layout: Optional[PathLike] = None, *, validate: bool = True,
               zones_dir: Optional[PathLike] = None, report: bool = False) -> Trips:
    """Reads trip files (TLC Parquet/CSV, Kaggle, Uber, simulator, or any layout given by a
    `layout` JSON file) with the C++ readers, validated as `bimride data convert` does
    (quarantined rows are not returned; `report=True` attaches the report as `.report`).

    Returns the TripTable's columns as NumPy arrays that own the C++ buffers (no copy).
    `columns` selects and orders them (default: all, see `trip_columns()`). With
    validate=False, Parquet files decode only those columns; validation (and CSV) needs every
    column, so then all are read and the others freed at once.
    """
    arrays, source, rep = _bimride._read_trips(
        _paths(files), None if columns is None else list(columns),
        None if layout is None else os.fspath(layout), validate,
        None if zones_dir is None else os.fspath(zones_dir), report)
    return Trips(arrays, source, rep)


def inspect(path: PathLike, layout: Optional[PathLike] = None, *, validate: bool = True,
            zones_dir: Optional[PathLike] = None) -> dict:
    """What `bimride data inspect` shows, as a dict: path, format, source, rows, row_groups and
    schema (Parquet: name, physical_type, optional, null_count per column; None for CSV),
    report (the validation report; None when validate=False) and text (the command's output)."""
    return _bimride._inspect(os.fspath(path), None if layout is None else os.fspath(layout),
                             validate, None if zones_dir is None else os.fspath(zones_dir))


def to_pandas(columns: Mapping[str, np.ndarray]):
    """A pandas DataFrame of a dict of columns (read_trips, read_parquet)."""
    import pandas as pd
    return pd.DataFrame(dict(columns), copy=False)


def read_parquet(path: PathLike, columns: Optional[Sequence[str]] = None) -> Dict[str, np.ndarray]:
    """Reads any flat Parquet file with our reader: {column: array}. Nulls: NaN in floats, NaT in
    timestamps, integers with nulls become float64 with NaN (as in pandas), strings and booleans
    with nulls an object array with None. Strings are str objects, other byte arrays bytes."""
    return _bimride._read_parquet(os.fspath(path), None if columns is None else list(columns))


def write_parquet(path: PathLike, columns, *, codec: str = "zstd",
                  row_group_rows: int = 1 << 20) -> int:
    """Writes a dict of NumPy arrays (or a pandas DataFrame) as Parquet with our writer; returns
    the rows written. bool, int8…int64, uint8…uint32, float32/64, datetime64 (ms/us/ns kept,
    others as us; NaT is null) and str/bytes (None is null) columns; every column OPTIONAL."""
    if hasattr(columns, "columns") and hasattr(columns, "to_numpy"):  # a DataFrame
        columns = {str(c): columns[c].to_numpy() for c in columns.columns}
    return _bimride._write_parquet(os.fspath(path), {str(k): np.asarray(v) for k, v in columns.items()},
                                   codec, row_group_rows)


# ------------------------------------------------------------------------------------ features


def _source(trips: Mapping[str, np.ndarray], source: Optional[str]) -> str:
    return source if source is not None else getattr(trips, "source", "unknown")


def _data_default(path: Optional[str], relative: str) -> Optional[str]:
    if path == "default":
        found = default_data_path(relative)
        return found if found else None
    return path


def _build_eta_context(trips: Mapping[str, np.ndarray], features: str = "booking", *,
                       zones_dir: Optional[str] = "default", weather: Optional[str] = "default",
                       shrinkage: float = 5, min_pair_count: int = 1,
                       source: Optional[str] = None) -> "EtaContext":
    """Learns the ETA feature context from training trips as `bimride train eta` does.

    `features`: "booking" or "with_distance" (or the spec names). `zones_dir` and `weather`
    default to the shared data folder's taxi zones and Central Park weather, as the CLI's;
    None leaves them out."""
    return _bimride.EtaContext._build(
        "with-distance" if features == "with_distance" else features, dict(trips),
        _source(trips, source), _data_default(zones_dir, "zones"),
        _data_default(weather, "weather/central_park_weather.csv"), shrinkage, min_pair_count)


# The ETA feature context (features/eta_context.h): zone centroids and boroughs, weather and the
# encodings learned from the TRAINING trips. build() learns it, save(dir) writes the files a
# model folder carries, load(dir) reads them back as the server does.
EtaContext = _bimride.EtaContext
EtaContext.build = staticmethod(_build_eta_context)


def eta_dataset(trips: Mapping[str, np.ndarray], *, min_minutes: float = 1, max_minutes: float = 60,
                apply_duration_filter: bool = True,
                source: Optional[str] = None) -> Tuple[Trips, np.ndarray, dict]:
    """The ETA training rows of `trips` as `bimride train eta` makes them: (kept trips, label
    minutes float32, report of what the filter removed and why; trips read with report=True
    also give the rows the reader's validation quarantined)."""
    read_report = getattr(trips, "report", None)
    kept, out_source, minutes, report = _bimride._eta_dataset(
        dict(trips), _source(trips, source), min_minutes, max_minutes, apply_duration_filter,
        read_report["quarantined"] if read_report else 0)
    return Trips(kept, out_source), minutes, report


def eta_features(context, trips: Mapping[str, np.ndarray], *,
                 source: Optional[str] = None) -> Tuple[np.ndarray, List[str]]:
    """Feature rows of trips, computed as training computes them: (float32 [rows, F], names)."""
    x = _bimride._eta_features(context, dict(trips), _source(trips, source))
    return x, list(context.feature_names)


# ---------------------------------------------------------------------------------- demand

TimeLike = Union[str, np.datetime64, int]


def _us(t: TimeLike, what: str) -> int:
    """A time as microseconds: "YYYY-MM-DD[ HH:MM[:SS]]" (the CLI's flags), a datetime64, or int
    microseconds."""
    if isinstance(t, str):
        return int(_bimride._parse_time(t, what))
    if isinstance(t, (np.datetime64,)):
        return int(np.datetime64(t, "us").astype(np.int64))
    if isinstance(t, (int, np.integer)):
        return int(t)
    raise TypeError(f"{what}: want a 'YYYY-MM-DD HH:MM' string, a datetime64 or microseconds, "
                    f"not {type(t).__name__}")


# The pickups of each (zone, time bucket) (features/demand_grid.h) over a window, restricted to
# the zones with a pickup in the training window, as `bimride train demand` makes it.
DemandGrid = _bimride.DemandGrid


def demand_grid(trips: Mapping[str, np.ndarray], begin: TimeLike, end: TimeLike, *,
                zones_begin: Optional[TimeLike] = None, zones_end: Optional[TimeLike] = None,
                bucket_minutes: int = 60, source: Optional[str] = None) -> DemandGrid:
    """Counts trips' pickups per zone and bucket over [begin, end) (tasks/demand's grid, the one
    `bimride train demand --train-begin … --train-end …` builds). Zones are those with a pickup in
    [zones_begin, zones_end) (default: the whole window); their empty buckets are zeros."""
    b, e = _us(begin, "begin"), _us(end, "end")
    zb = b if zones_begin is None else _us(zones_begin, "zones_begin")
    ze = e if zones_end is None else _us(zones_end, "zones_end")
    return _bimride.DemandGrid._make(dict(trips), _source(trips, source), b, e, zb, ze,
                                     bucket_minutes)


def _build_demand_context(grid: DemandGrid, train_begin: TimeLike, train_end: TimeLike, *,
                          horizons: int = 6, recent_lags: int = 6,
                          weather: Optional[PathLike] = None) -> "DemandContext":
    """Learns a demand model's context from the grid's TRAINING buckets [train_begin, train_end):
    the per-zone averages (and, given `weather`, the NOAA daily weather), as the C++ trainer's."""
    return _bimride.DemandContext._build(grid, _us(train_begin, "train_begin"),
                                         _us(train_end, "train_end"), horizons, recent_lags,
                                         os.fspath(weather) if weather is not None else None)


# The context a demand model carries (features/demand_features.h: feature config, baselines,
# weather). build() learns it, save(dir) writes demand_baselines.json (+ weather.csv), load(dir)
# reads them back as the server does; publish(feature_context=…) names the demand_zone_bucket spec.
DemandContext = _bimride.DemandContext
DemandContext.build = staticmethod(_build_demand_context)


def demand_forecast_rows(context: DemandContext, grid: DemandGrid, begin: TimeLike,
                         end: TimeLike) -> Dict[str, np.ndarray]:
    """Rows for forecasts made at every bucket boundary t in [begin, end), every zone, with the
    context's baselines (what a published model and the server compute): {"features" [rows, F]
    float32, "targets" [rows, H] (NaN past the grid), "zone" int32, "time" datetime64 t}."""
    return _bimride._demand_forecast_rows(context, grid, _us(begin, "begin"), _us(end, "end"))


def demand_training_rows(context: DemandContext, grid: DemandGrid, begin: TimeLike, end: TimeLike,
                         *, out_of_fold: bool = True) -> Dict[str, np.ndarray]:
    """Training rows over [begin, end) as the C++ trainer builds them: baselines per 7-day fold,
    out of fold (or past-only), so no row sees its own targets. Same keys as demand_forecast_rows."""
    return _bimride._demand_training_rows(context, grid, _us(begin, "begin"), _us(end, "end"),
                                          out_of_fold)


def demand_request(grid: DemandGrid, zone: int, t: TimeLike) -> Dict[str, Any]:
    """The raw fields a client sends to forecast `zone` at `t` (a bucket boundary): zone, time and
    the week of counts ending at t from the grid (the demand_zone_bucket spec's request)."""
    return _bimride._demand_request(grid, int(zone), _us(t, "t"))


def _raw_values(values) -> list:
    a = np.asarray(values)
    if a.dtype.kind == "M":  # times as the server receives them: "YYYY-MM-DD HH:MM:SS"
        return [str(v).replace("T", " ") for v in a.astype("datetime64[s]")]
    return a.tolist()


def serving_features(version_dir: PathLike, raw: Mapping[str, Any]) -> np.ndarray:
    """The rows the server feeds the model of this version folder for raw request fields
    (column-wise, as in a REST request's instances): its manifest's feature spec, built by the
    same feature adapter `bimride serve` builds. datetime64 columns are sent as
    "YYYY-MM-DD HH:MM:SS" strings, as clients do."""
    return _bimride._serving_features(os.fspath(version_dir),
                                      {str(k): _raw_values(v) for k, v in raw.items()})


# ----------------------------------------------------------------------- tracking and registry


class Registry:
    """A model repository and its metadata store (TF Serving layout; what `bimride models`,
    `bimride runs` and `bimride serve --model-repo` use). Default: $BIMRIDE_MODEL_REPO or
    ./model_repo."""

    def __init__(self, root: Optional[PathLike] = None):
        self._r = _bimride._Registry.open(os.fspath(root) if root else default_repository())

    @property
    def root(self) -> str:
        return self._r.root()

    def models(self) -> List[dict]:
        return self._r.list_models()

    def show(self, model: str, version: int) -> dict:
        """The fully checked manifest of one version."""
        return json.loads(self._r.show(model, version))

    def resolve(self, ref: str) -> int:
        """"eta" (latest), "eta:3" or "eta:stable" → the version number."""
        return self._r.resolve(ref)

    def version_dir(self, ref: str) -> str:
        model = ref.split(":")[0]
        return self._r.version_dir(model, self.resolve(ref))

    def promote(self, model: str, version: int, label: str, why: str = "",
                who: Optional[str] = None) -> dict:
        return self._r.promote(model, version, label, why, who or _bimride.current_user())

    def rollback(self, model: str, label: str, why: str = "", who: Optional[str] = None) -> dict:
        return self._r.rollback(model, label, why, who or _bimride.current_user())

    def history(self, model: str, label: str = "") -> List[dict]:
        return self._r.history(model, label)

    def runs(self, task: str = "", limit: int = 0) -> List[dict]:
        return self._r.list_runs(task, limit)

    def run(self, run_id: str) -> dict:
        """Everything about one run: params, tags, every metric point (key, value, step), data
        fingerprint, git commit, artifacts."""
        return self._r.get_run(run_id)

    def publish_folder(self, folder: PathLike, name: str = "", backend: str = "",
                       first_artifact: str = "") -> dict:
        return json.loads(self._r.publish_folder(os.fspath(folder), name, backend, first_artifact))


class Run:
    """A tracked run (registry/run_tracker.h), MLflow-style. Use through `start_run`."""

    def __init__(self, registry: Registry, tracker):
        self.registry = registry
        self._t = tracker

    @property
    def run_id(self) -> str:
        return self._t.run_id

    def log_param(self, key: str, value: Any) -> None:
        self._t.log_params({key: str(value)})

    def log_params(self, params: Mapping[str, Any]) -> None:
        self._t.log_params({k: str(v) for k, v in params.items()})

    def log_metric(self, key: str, value: float, step: int = 0) -> None:
        self._t.log_metric(key, float(value), step)

    def log_metrics(self, metrics: Mapping[str, float], step: int = 0) -> None:
        self._t.log_metrics({k: float(v) for k, v in metrics.items()}, step)

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        self._t.set_tags({k: str(v) for k, v in tags.items()})

    def log_data(self, files: Union[PathLike, Iterable[PathLike]], filter: str = "") -> None:
        """Records the sha256 of every input file and the row filter (the data fingerprint)."""
        self._t.set_data_fingerprint(_paths(files), filter)

    def log_artifact(self, path: PathLike) -> dict:
        return self._t.log_artifact(os.fspath(path))

    def end(self, status: str = "FINISHED") -> None:
        self._t.end(status)

    def info(self) -> dict:
        return self.registry.run(self.run_id)

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        self.end("FINISHED" if exc_type is None else
                 "KILLED" if issubclass(exc_type, KeyboardInterrupt) else "FAILED")
        return False


def start_run(task: str, params: Optional[Mapping[str, Any]] = None, *,
              tags: Optional[Mapping[str, Any]] = None,
              data: Optional[Union[PathLike, Iterable[PathLike]]] = None, data_filter: str = "",
              repo: Optional[PathLike] = None, code_dir: Optional[PathLike] = None) -> Run:
    """Starts a tracked run in the registry's store (what `bimride runs list/show` show), with
    the git commit of `code_dir` (default: the current directory) and, given `data`, the data
    fingerprint. As a context manager it ends FINISHED, or FAILED when the block raises."""
    registry = Registry(repo)
    tracker = registry._r.start_run(task, {k: str(v) for k, v in (params or {}).items()},
                                    {k: str(v) for k, v in (tags or {}).items()},
                                    os.fspath(code_dir) if code_dir else ".")
    run = Run(registry, tracker)
    if data is not None:
        run.log_data(data, data_filter)
    return run


def _model_files(model, folder: str) -> Tuple[str, str, int, int]:
    """Saves a Python model into `folder`: (artifact, backend, num_features, num_outputs)."""
    kind = type(model).__module__ + "." + type(model).__name__
    if kind.startswith("torch.jit") or hasattr(model, "save") and hasattr(model, "graph"):
        for attr in ("num_features", "num_outputs"):
            if not isinstance(getattr(model, attr, None), int):
                raise Error(f"publish: the TorchScript module has no int attribute '{attr}' "
                            "(set self.num_features and self.num_outputs before scripting)")
        model.save(os.path.join(folder, "model.pt"))
        return "model.pt", "torchscript", model.num_features, model.num_outputs
    if kind.startswith("xgboost."):
        model.save_model(os.path.join(folder, "model.json"))
        return "model.json", "xgboost", model.num_features(), 1
    raise Error(f"publish: cannot publish a {kind} (want a model folder, a "
                "torch.jit.ScriptModule or an xgboost.Booster)")


def publish(model, name: str, *, task: str = "eta", feature_context=None,
            feature_spec: Optional[str] = None, request_fields: Optional[Sequence[str]] = None,
            run: Optional[Run] = None, metrics: Optional[Mapping[str, float]] = None,
            properties: Optional[Mapping[str, str]] = None, backend: str = "",
            output_name: str = "prediction", repo: Optional[PathLike] = None,
            label: Optional[str] = None, why: str = "") -> dict:
    """Publishes a model as the next version of `name`; returns its manifest.

    `model`: a model folder (with its manifest.json, as `bimride train` writes), a
    torch.jit.ScriptModule (saved with torch's own save; needs int attributes num_features and
    num_outputs) or an xgboost.Booster. `feature_context` (an EtaContext) is saved beside it and
    names the feature spec, so the server turns raw request fields into features exactly as
    training did. `run` links the version to its tracked run; `label` promotes it at once.
    """
    reg = Registry(repo) if run is None or repo is not None else run.registry
    if isinstance(model, (str, os.PathLike)):
        manifest = reg.publish_folder(model, name, backend)
    else:
        with tempfile.TemporaryDirectory(prefix="bimride-publish-") as folder:
            artifact, saved_backend, num_features, num_outputs = _model_files(model, folder)
            artifacts = [artifact]
            m: Dict[str, Any] = {
                "format_version": 1, "name": name, "task": task,
                "backend": backend or saved_backend,
                "inputs": [{"name": "features", "dtype": "float32", "shape": [-1, num_features]}],
                "outputs": [{"name": output_name, "dtype": "float32", "shape": [-1, num_outputs]}],
                "properties": {"published_from": "python", **(properties or {})},
            }
            if feature_context is not None:
                feature_context.save(folder)
                artifacts += sorted(f for f in os.listdir(folder) if f != artifact)
                feature_spec = feature_spec or feature_context.feature_spec
                request_fields = request_fields or feature_context.request_fields
                m["properties"]["feature_names"] = ",".join(feature_context.feature_names)
            if feature_spec:
                m["feature_spec"] = {"name": feature_spec, "version": 1,
                                     "request_fields": list(request_fields or [])}
            m["artifacts"] = artifacts
            if run is not None:
                m["run_id"] = run.run_id
            if metrics:
                m["metrics"] = {k: float(v) for k, v in metrics.items()}
            _bimride._write_folder_manifest(folder, json.dumps(m))
            manifest = reg.publish_folder(folder)
    if label:
        reg.promote(manifest["name"], manifest["version"], label, why)
    return manifest


def promote(model: str, version: int, label: str, why: str = "", *,
            repo: Optional[PathLike] = None) -> dict:
    """Points `label` at `version` (after a full sha256 check), logged in the audit log."""
    return Registry(repo).promote(model, version, label, why)


def rollback(model: str, label: str, why: str = "", *, repo: Optional[PathLike] = None) -> dict:
    """Undoes the label's most recent promotion not already undone."""
    return Registry(repo).rollback(model, label, why)
