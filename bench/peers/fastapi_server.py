"""Python peer for the serving benchmark: FastAPI + uvicorn + PyTorch serving a TorchScript
model behind the TF Serving predict route, the way a team would write it by hand, in uvicorn's
fast form: uvloop event loop, httptools parser, one worker process per core, each with one
intra-op thread (as `bimride serve` runs one I/O thread per core, one intra-op thread).

  /usr/bin/python3 bench/peers/fastapi_server.py --port 18081 [--model model.pt] \
      [--workers 2] [--loop uvloop] [--http httptools]
  /usr/bin/python3 bench/peers/fastapi_server.py --model model.pt --time-compute body.json

Each worker prints one line at startup naming its event loop, HTTP parser and torch threads
(the benchmark checks them). --time-compute times predict_rows — the handler's model work:
tensor from the parsed rows, forward, values out — on the body's instances, in-process, and
prints its p50 (the model compute that "overhead from the socket" subtracts).

Without --model it scripts the benchmark model itself: y = x . [1, 2, 3] + 0.5, the same
function the C++ server's benchmark model computes, as a TorchScript nn.Linear(3, 1).
"""
import argparse
import asyncio
import json
import os
import sys
import time

import torch
from fastapi import FastAPI, HTTPException, Request

MODEL_ENV = "BIMRIDE_PEER_MODEL"  # how the worker processes learn the model path
app = FastAPI()
model = None


def build_model():
    lin = torch.nn.Linear(3, 1)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1.0, 2.0, 3.0]]))
        lin.bias.copy_(torch.tensor([0.5]))
    return torch.jit.freeze(torch.jit.script(lin.eval()))


def load_model(path):
    # Prepared as our torchscript backend prepares it: eval, freeze, optimize_for_inference.
    torch.set_num_threads(1)
    if not path:
        return build_model()
    return torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.load(path).eval()))


def predict_rows(instances):
    with torch.inference_mode():
        out = model(torch.tensor(instances, dtype=torch.float32))
    return out[:, 0].tolist()


@app.on_event("startup")
async def startup():
    global model
    model = load_model(os.environ.get(MODEL_ENV, ""))
    loop = type(asyncio.get_running_loop())
    http = ("httptools" if "uvicorn.protocols.http.httptools_impl" in sys.modules
            else "h11" if "uvicorn.protocols.http.h11_impl" in sys.modules else "?")
    print(f"fastapi_server worker {os.getpid()}: loop {loop.__module__}.{loop.__name__}, "
          f"http {http}, torch threads {torch.get_num_threads()}", flush=True)


@app.post("/v1/models/eta:predict")
async def predict(request: Request):
    body = await request.json()
    instances = body.get("instances")
    if not isinstance(instances, list) or not instances:
        raise HTTPException(status_code=400, detail="'instances' must be a non-empty array")
    return {"predictions": predict_rows(instances)}


def time_compute(body_path, calls=20000):
    global model
    model = load_model(os.environ.get(MODEL_ENV, ""))
    instances = json.load(open(body_path))["instances"]
    us = []
    for i in range(2 * calls):  # the first half warms up
        t0 = time.perf_counter()
        predict_rows(instances)
        t1 = time.perf_counter()
        if i >= calls:
            us.append((t1 - t0) * 1e6)
    us.sort()
    print(f"compute (python torch.jit, in-process, {calls} calls): "
          f"p50 {us[len(us) // 2]:.1f} us, p99 {us[int(0.99 * (len(us) - 1))]:.1f} us")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=18081)
    parser.add_argument("--model", default="")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--loop", default="auto", help="uvicorn --loop: auto, asyncio, uvloop")
    parser.add_argument("--http", default="auto", help="uvicorn --http: auto, h11, httptools")
    parser.add_argument("--time-compute", metavar="BODY", default="")
    args = parser.parse_args()
    os.environ[MODEL_ENV] = args.model
    if args.time_compute:
        time_compute(args.time_compute)
        return
    import uvicorn  # only the server needs it
    # An import string, so that uvicorn can start --workers processes.
    uvicorn.run("fastapi_server:app", app_dir=os.path.dirname(os.path.abspath(__file__)),
                host="127.0.0.1", port=args.port, workers=args.workers, loop=args.loop,
                http=args.http, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
