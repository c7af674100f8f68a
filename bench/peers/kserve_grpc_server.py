"""Python peer for the gRPC serving benchmark (bench/serving/grpc_run.sh): a minimal KServe v2
gRPC server (inference.GRPCInferenceService: ServerLive, ServerReady, ModelInfer) in Debian's
python3-grpcio, serving a TorchScript model with PyTorch — the server a team would write by hand
from the same .proto files (ours, src/serving/grpc/protos/; stubs generated at start with protoc
and grpc_python_plugin).

  /usr/bin/python3 bench/peers/kserve_grpc_server.py --port 18091 --model model.pt \
      [--workers 2] [--threads 8]

One process per core (--workers, forked before gRPC starts, each binding the port with
SO_REUSEPORT, as grpcio's multiprocessing example does: the GIL makes threads of one process
share one core), each with a thread pool of --threads and one intra-op torch thread. The model
is prepared as our torchscript backend prepares it (eval, freeze, optimize_for_inference).
A batch-1 FP32 [1, W] input in typed contents or raw_input_contents; the answer in the same form
(raw_output_contents for raw requests). Each worker prints one startup line the benchmark checks.
"""
import argparse
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
from concurrent import futures

PROTOS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../src/serving/grpc/protos")


def stubs():
    out = tempfile.mkdtemp(prefix="kserve_grpc_peer.")
    subprocess.run(["protoc", "-I", PROTOS, "--python_out=" + out, "--grpc_out=" + out,
                    "--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin",
                    "grpc_predict_v2.proto"], check=True)
    sys.path.insert(0, out)


def serve(port, model_path, threads):
    import grpc
    import numpy as np
    import torch
    import grpc_predict_v2_pb2 as pb
    import grpc_predict_v2_pb2_grpc as pbg

    torch.set_num_threads(1)
    model = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.load(model_path).eval()))

    class Inference(pbg.GRPCInferenceServiceServicer):
        def ServerLive(self, request, context):
            return pb.ServerLiveResponse(live=True)

        def ServerReady(self, request, context):
            return pb.ServerReadyResponse(ready=True)

        def ModelInfer(self, request, context):
            if len(request.inputs) != 1 or request.inputs[0].datatype != "FP32":
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "one FP32 input expected")
            t = request.inputs[0]
            raw = len(request.raw_input_contents) > 0
            if raw:
                x = np.frombuffer(request.raw_input_contents[0], dtype="<f4").reshape(tuple(t.shape))
            else:
                x = np.asarray(t.contents.fp32_contents, dtype=np.float32).reshape(tuple(t.shape))
            with torch.inference_mode():
                y = model(torch.from_numpy(x.copy()))[:, 0].numpy()
            resp = pb.ModelInferResponse(model_name=request.model_name, model_version="1",
                                         id=request.id)
            out = resp.outputs.add(name="eta_seconds", datatype="FP32", shape=[len(y)])
            if raw:
                resp.raw_output_contents.append(y.astype("<f4").tobytes())
            else:
                out.contents.fp32_contents.extend(y.tolist())
            return resp

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=threads),
                         options=[("grpc.so_reuseport", 1)])
    pbg.add_GRPCInferenceServiceServicer_to_server(Inference(), server)
    server.add_insecure_port("127.0.0.1:%d" % port)
    server.start()
    print("kserve grpc peer pid %d: grpcio %s, %d threads, torch threads %d" %
          (os.getpid(), grpc.__version__, threads, torch.get_num_threads()), flush=True)
    server.wait_for_termination()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=8)
    a = p.parse_args()
    stubs()
    # Fork before any gRPC object exists (grpcio does not survive a fork after it started).
    procs = [multiprocessing.Process(target=serve, args=(a.port, a.model, a.threads))
             for _ in range(a.workers)]
    for proc in procs:
        proc.start()

    def stop(signum, frame):  # SIGTERM/SIGINT to the parent stops its workers too
        for proc in procs:
            proc.terminate()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for proc in procs:
        proc.join()


if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    main()
