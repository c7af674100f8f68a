"""Python peer for the serving benchmark: FastAPI + uvicorn + PyTorch serving a TorchScript
model behind the TF Serving predict route, the way a team would write it by hand.

  /usr/bin/python3 bench/peers/fastapi_server.py --port 18081 [--model model.pt]

Without --model it scripts the benchmark model itself: y = x . [1, 2, 3] + 0.5, the same
function the C++ server's benchmark model computes, as a TorchScript nn.Linear(3, 1).
"""
import argparse

import torch
import uvicorn
from fastapi import FastAPI, HTTPException, Request


def build_model():
    lin = torch.nn.Linear(3, 1)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1.0, 2.0, 3.0]]))
        lin.bias.copy_(torch.tensor([0.5]))
    return torch.jit.freeze(torch.jit.script(lin.eval()))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=18081)
    parser.add_argument("--model", default="")
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = torch.jit.load(args.model) if args.model else build_model()
    app = FastAPI()

    @app.post("/v1/models/eta:predict")
    async def predict(request: Request):
        body = await request.json()
        instances = body.get("instances")
        if not isinstance(instances, list) or not instances:
            raise HTTPException(status_code=400, detail="'instances' must be a non-empty array")
        with torch.inference_mode():
            out = model(torch.tensor(instances, dtype=torch.float32))
        return {"predictions": out[:, 0].tolist()}

    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
