"""Serve a model repository with the real `bimride serve` from Python, and ask it for predictions
over TF Serving REST: what a notebook needs to check that served answers equal its own.

    with bimride.serving.serve("model_repo") as server:
        server.predict("eta", [{"pickup_zone": 74, "dropoff_zone": 236,
                                "pickup_datetime": "2021-02-10 08:30:00"}], label="stable")
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from typing import Any, List, Mapping, Optional, Sequence

from ._bimride import Error


def find_cli() -> str:
    """The `bimride` executable: $BIMRIDE_CLI, else the one of the build this package sits in,
    else `bimride` on PATH."""
    env = os.environ.get("BIMRIDE_CLI")
    if env:
        return env
    beside = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "bimride"))
    if os.access(beside, os.X_OK):
        return beside
    found = shutil.which("bimride")
    if not found:
        raise Error("bimride serve: no `bimride` executable (set BIMRIDE_CLI)")
    return found


class Server:
    """A running `bimride serve` (started by `serve`); stopped (drained) on exit."""

    def __init__(self, process: subprocess.Popen, url: str, log=None):
        self.process = process
        self.url = url
        self._log = log

    def request(self, method: str, path: str, body: Optional[Any] = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            raise Error(f"{method} {path}: HTTP {e.code}: {e.read().decode(errors='replace')}")

    def predict(self, model: str, instances: Sequence[Mapping[str, Any]], *,
                version: Optional[int] = None, label: Optional[str] = None) -> List[Any]:
        """TF Serving REST predict in the row format; returns "predictions"."""
        path = f"/v1/models/{model}"
        if version is not None:
            path += f"/versions/{version}"
        elif label is not None:
            path += f"/labels/{label}"
        return self.request("POST", path + ":predict", {"instances": list(instances)})["predictions"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()
        if self._log is not None:
            self._log.close()

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> bool:
        self.stop()
        return False


def serve(repo: str, *, port: int = 0, args: Sequence[str] = (), cli: Optional[str] = None) -> Server:
    """Starts `bimride serve --model-repo REPO --port PORT` (0: a free port) and waits until it
    listens."""
    log = tempfile.TemporaryFile(mode="w+")  # the server's log; a pipe nobody reads could fill
    p = subprocess.Popen([cli or find_cli(), "serve", "--model-repo", os.fspath(repo),
                          "--port", str(port), *args],
                         stdout=subprocess.PIPE, stderr=log, text=True)
    line = p.stdout.readline()  # "bimride serve: listening on HOST:PORT"
    if "listening on" not in line:
        p.kill()
        p.wait()
        p.stdout.close()
        log.seek(0)
        message = log.read().strip() or line.strip()
        log.close()
        raise Error("bimride serve did not start: " + message)
    address = line.rsplit(" ", 1)[1].strip()
    return Server(p, "http://" + address, log)
