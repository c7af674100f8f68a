#!/usr/bin/env python3
"""Debian's python3-grpcio as a client of our gRPC transport.

Generates Python stubs from our .proto files (protoc --python_out + grpc_python_plugin, both
from Debian's protobuf-compiler / protobuf-compiler-grpc), starts grpc_test_server (the test
backend on a free port) and calls KServe v2's GRPCInferenceService and TF Serving's
PredictionService as a stock client would: good requests, and bad ones (wrong datatype, shape
mismatch, raw contents of the wrong size, unknown model and version) whose gRPC codes and
messages are checked.

  grpc_python_client_test.py --server build/.../grpc_test_server --protos src/serving/grpc/protos
"""
import argparse
import os
import subprocess
import sys
import tempfile
import unittest

ARGS = None


def generate_stubs(protos, out):
    files = []
    for root, _, names in os.walk(protos):
        files += [os.path.relpath(os.path.join(root, n), protos) for n in names if n.endswith(".proto")]
    subprocess.run(["protoc", "-I", protos, "--python_out=" + out, "--grpc_out=" + out,
                    "--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin"] + sorted(files),
                   check=True)
    # Packages for the generated modules' folders (tensorflow/core/framework, …).
    for root, _, _ in os.walk(out):
        open(os.path.join(root, "__init__.py"), "a").close()


class GrpcClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="grpc_python_client_test.")
        generate_stubs(ARGS.protos, cls.tmp.name)
        sys.path.insert(0, cls.tmp.name)
        import grpc
        import numpy as np
        import grpc_predict_v2_pb2 as kpb
        import grpc_predict_v2_pb2_grpc as kgrpc
        from tensorflow_serving.apis import predict_pb2, get_model_metadata_pb2
        from tensorflow_serving.apis import prediction_service_pb2_grpc as tgrpc
        from tensorflow.core.framework import types_pb2
        cls.grpc, cls.np, cls.kpb, cls.predict_pb2 = grpc, np, kpb, predict_pb2
        cls.meta_pb2, cls.types_pb2 = get_model_metadata_pb2, types_pb2
        cls.server = subprocess.Popen([ARGS.server], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      text=True)
        line = cls.server.stdout.readline()
        assert line.startswith("port "), line
        cls.channel = grpc.insecure_channel("127.0.0.1:" + line.split()[1])
        cls.kserve = kgrpc.GRPCInferenceServiceStub(cls.channel)
        cls.tfs = tgrpc.PredictionServiceStub(cls.channel)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.server.stdin.close()
        cls.server.wait(timeout=30)
        cls.tmp.cleanup()

    def features(self, model, values, shape, datatype="FP32", raw=False, version=""):
        req = self.kpb.ModelInferRequest(model_name=model, model_version=version)
        t = req.inputs.add(name="features", datatype=datatype, shape=shape)
        if raw:
            req.raw_input_contents.append(self.np.asarray(values, dtype="<f4").tobytes())
        else:
            t.contents.fp32_contents.extend(values)
        return req

    def assert_error(self, call, req, code, words):
        with self.assertRaises(self.grpc.RpcError) as e:
            call(req)
        self.assertEqual(e.exception.code(), code, e.exception.details())
        self.assertIn(words, e.exception.details())

    def test_health_and_metadata(self):
        self.assertTrue(self.kserve.ServerLive(self.kpb.ServerLiveRequest()).live)
        self.assertTrue(self.kserve.ServerReady(self.kpb.ServerReadyRequest()).ready)
        self.assertEqual(self.kserve.ServerMetadata(self.kpb.ServerMetadataRequest()).name, "bimride")
        self.assertTrue(self.kserve.ModelReady(self.kpb.ModelReadyRequest(name="eta", version="2")).ready)
        meta = self.kserve.ModelMetadata(self.kpb.ModelMetadataRequest(name="eta"))
        self.assertEqual(list(meta.inputs[0].shape), [-1, 3])
        self.assertEqual([o.name for o in meta.outputs], ["eta_seconds"])

    def test_model_infer_typed_and_raw(self):
        resp = self.kserve.ModelInfer(self.features("eta", [1, 2, 3, 0, 0, 1], [2, 3]))
        self.assertEqual(resp.model_version, "1")
        self.assertEqual(list(resp.outputs[0].contents.fp32_contents), [15.0, 4.0])
        # raw_input_contents (as tritonclient sends) → raw_output_contents.
        resp, call = self.kserve.ModelInfer.with_call(
            self.features("eta", [1, 2, 3], [1, 3], raw=True, version="2"),
            metadata=(("x-request-id", "py-1"),))
        self.assertEqual(self.np.frombuffer(resp.raw_output_contents[0], "<f4").tolist(), [16.0])
        self.assertIn(("x-request-id", "py-1"), call.initial_metadata())

    def test_model_infer_raw_fields(self):
        req = self.kpb.ModelInferRequest(model_name="trip")
        req.inputs.add(name="pickup_zone", datatype="INT64", shape=[1]).contents.int64_contents.append(74)
        req.inputs.add(name="trip_distance", datatype="FP32", shape=[1]).contents.fp32_contents.append(2.5)
        req.inputs.add(name="pickup_datetime", datatype="BYTES", shape=[1])
        s = b"2024-01-05 08:30:00"
        req.raw_input_contents.extend([self.np.array([74], "<i8").tobytes(),
                                       self.np.array([2.5], "<f4").tobytes(),
                                       len(s).to_bytes(4, "little") + s])
        for t in req.inputs:
            t.ClearField("contents")
        resp = self.kserve.ModelInfer(req)
        out = {o.name: self.np.frombuffer(r, "<f4").tolist()
               for o, r in zip(resp.outputs, resp.raw_output_contents)}
        self.assertEqual(out, {"a": [82.0], "b": [2.5]})

    def test_model_infer_bad_input(self):
        code = self.grpc.StatusCode
        infer = self.kserve.ModelInfer
        self.assert_error(infer, self.features("eta", [1, 2, 3, 4], [1, 4]), code.INVALID_ARGUMENT,
                          "'features'")  # the model takes 3 features
        self.assert_error(infer, self.features("eta", [1, 2, 3], [2, 3]), code.INVALID_ARGUMENT,
                          "input 'features': fp32_contents has 3 elements but shape implies 6")
        self.assert_error(infer, self.features("eta", [1, 2, 3], [1, 3], datatype="INT32"),
                          code.INVALID_ARGUMENT, "datatype INT32 takes its values in int_contents")
        bad_raw = self.features("eta", [1, 2, 3], [1, 3], raw=True)
        bad_raw.raw_input_contents[0] = bad_raw.raw_input_contents[0][:-1]
        self.assert_error(infer, bad_raw, code.INVALID_ARGUMENT,
                          "raw_input_contents has 11 bytes but shape and datatype FP32 imply 12")
        self.assert_error(infer, self.features("nope", [1, 2, 3], [1, 3]), code.NOT_FOUND, "nope")
        self.assert_error(infer, self.features("eta", [1, 2, 3], [1, 3], version="9"),
                          code.NOT_FOUND, "9")
        self.assert_error(infer, self.features("eta", [1, 2, 3], [1, 3], datatype="BOOL"),
                          code.INVALID_ARGUMENT, "BOOL data is not accepted")

    def test_bytes_that_are_not_a_message_are_refused_and_the_server_keeps_serving(self):
        call = self.channel.unary_unary("/inference.GRPCInferenceService/ModelInfer")
        for junk in [b"\x0a\x02\xff\xfe", b"\xff\xff\xff"]:  # invalid UTF-8 name; bad tag
            with self.assertRaises(self.grpc.RpcError) as e:
                call(junk)
            # Refused by gRPC before our code sees it; gRPC 1.51 answers UNIMPLEMENTED.
            self.assertNotEqual(e.exception.code(), self.grpc.StatusCode.OK)
        self.assertTrue(self.kserve.ServerLive(self.kpb.ServerLiveRequest()).live)

    def test_tf_serving_predict_and_metadata(self):
        pb, types = self.predict_pb2, self.types_pb2
        req = pb.PredictRequest()
        req.model_spec.name = "eta"
        req.model_spec.version_label = "canary"
        t = req.inputs["features"]
        t.dtype = types.DT_FLOAT
        t.tensor_shape.dim.add(size=1)
        t.tensor_shape.dim.add(size=3)
        t.tensor_content = self.np.array([1, 2, 3], "<f4").tobytes()
        resp = self.tfs.Predict(req)
        self.assertEqual(resp.model_spec.version.value, 2)
        self.assertEqual(list(resp.outputs["eta_seconds"].float_val), [16.0])
        t.dtype = types.DT_BOOL
        self.assert_error(self.tfs.Predict, req, self.grpc.StatusCode.INVALID_ARGUMENT,
                          "input 'features': DT_BOOL is not accepted")
        mreq = self.meta_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
        mreq.model_spec.name = "eta"
        meta = self.tfs.GetModelMetadata(mreq)
        sigs = self.meta_pb2.SignatureDefMap()
        self.assertTrue(meta.metadata["signature_def"].Unpack(sigs))
        sig = sigs.signature_def["serving_default"]
        self.assertEqual([d.size for d in sig.inputs["features"].tensor_shape.dim], [-1, 3])
        mreq.model_spec.name = "nope"
        self.assert_error(self.tfs.GetModelMetadata, mreq, self.grpc.StatusCode.NOT_FOUND, "nope")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--protos", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
