#!/usr/bin/python3
"""Writes the ONNX files the onnx backend's test runs, each with the answers of the framework
that made it: <out>/<name>.onnx and <out>/<name>.json ({"inputs": rows, "outputs": rows}).

- torch_mlp: a tabular net like our ETA net (zone embeddings looked up from float columns,
  numeric features, Linear/ReLU/Tanh/Sigmoid), exported by Debian's python3-torch with
  torch.onnx.export; answers from PyTorch itself.
- xgb_reg, xgb_binary, xgb_multi: XGBoost models (python3-xgboost) trained on random data with
  missing values, written as ai.onnx.ml TreeEnsembleRegressor/Classifier graphs by hand with
  python3-onnx's helper (as onnxmltools does); answers from XGBoost's predict.
- numpy_ops: a hand-built graph of the shape operators (Reshape, Slice, Squeeze, Unsqueeze,
  Flatten, Shape, Concat, Softmax, MatMul, Div, Sub, Exp, Clip); answers from numpy.
- bad_*: files the backend must refuse with a clear message.

Usage: make_test_models.py OUT_DIR
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(7)


def save(name, model, inputs, outputs):
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(OUT, name + ".onnx"))
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        rows = [[None if np.isnan(v) else float(v) for v in row]  # NaN (missing) as null
                for row in np.asarray(inputs, dtype=np.float32)]
        json.dump({"inputs": rows,
                   "outputs": np.asarray(outputs, dtype=np.float64).tolist()}, f)


# --- torch_mlp ------------------------------------------------------------------------------
import torch  # noqa: E402

torch.manual_seed(3)


class TabularNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.pickup = torch.nn.Embedding(264, 6)
        self.dropoff = torch.nn.Embedding(264, 6)
        self.l1 = torch.nn.Linear(12 + 5, 32)
        self.l2 = torch.nn.Linear(32, 16)
        self.out = torch.nn.Linear(16, 2)

    def forward(self, x):
        pu = self.pickup(x[:, 0].long())
        do = self.dropoff(x[:, 1].long())
        h = torch.cat([pu, do, x[:, 2:]], dim=1)
        h = torch.relu(self.l1(h))
        h = torch.tanh(self.l2(h))
        y = self.out(h)
        return torch.cat([y[:, :1], torch.sigmoid(y[:, 1:])], dim=1)


net = TabularNet().eval()
rows = np.concatenate([rng.integers(1, 264, size=(64, 2)).astype(np.float32),
                       rng.normal(size=(64, 5)).astype(np.float32)], axis=1)
with torch.no_grad():
    expected = net(torch.from_numpy(rows)).numpy()
path = os.path.join(OUT, "torch_mlp.onnx")
torch.onnx.export(net, torch.from_numpy(rows[:1]), path, input_names=["features"],
                  output_names=["y"], dynamic_axes={"features": {0: "n"}, "y": {0: "n"}},
                  opset_version=13)
save("torch_mlp", onnx.load(path), rows, expected)

# --- XGBoost tree ensembles -----------------------------------------------------------------
import xgboost as xgb  # noqa: E402

X = rng.normal(size=(400, 6)).astype(np.float32)
X[rng.random(X.shape) < 0.1] = np.nan
y_reg = np.nan_to_num(X[:, 0]) * 3 + np.nan_to_num(X[:, 1]) ** 2 + rng.normal(size=400) * 0.1
y_bin = (np.nan_to_num(X[:, 2]) + np.nan_to_num(X[:, 3]) > 0).astype(np.float32)
y_multi = (np.digitize(np.nan_to_num(X[:, 4]), [-0.5, 0.5])).astype(np.float32)


def tree_nodes(booster, num_class_groups):
    """The booster's trees as ONNX node attributes (XGBoost: go left when x < split)."""
    nodes = dict(treeids=[], nodeids=[], featureids=[], values=[], modes=[], trues=[],
                 falses=[], missing=[])
    leaves = dict(treeids=[], nodeids=[], ids=[], weights=[])
    for t, text in enumerate(booster.get_dump(dump_format="json")):
        stack = [json.loads(text)]
        while stack:
            n = stack.pop()
            nodes["treeids"].append(t)
            nodes["nodeids"].append(n["nodeid"])
            if "leaf" in n:
                for k, v in (("featureids", 0), ("values", 0.0), ("modes", "LEAF"),
                             ("trues", 0), ("falses", 0), ("missing", 0)):
                    nodes[k].append(v)
                leaves["treeids"].append(t)
                leaves["nodeids"].append(n["nodeid"])
                leaves["ids"].append(t % num_class_groups)
                leaves["weights"].append(n["leaf"])
                continue
            nodes["featureids"].append(int(n["split"][1:]))
            nodes["values"].append(n["split_condition"])
            nodes["modes"].append("BRANCH_LT")
            nodes["trues"].append(n["yes"])
            nodes["falses"].append(n["no"])
            nodes["missing"].append(1 if n["missing"] == n["yes"] else 0)
            stack.extend(n["children"])
    return nodes, leaves


def tree_graph(op, nodes, leaves, prefix, outputs, **attrs):
    node = helper.make_node(
        op, ["X"], [o.name for o in outputs], domain="ai.onnx.ml",
        nodes_treeids=nodes["treeids"], nodes_nodeids=nodes["nodeids"],
        nodes_featureids=nodes["featureids"], nodes_values=nodes["values"],
        nodes_modes=nodes["modes"], nodes_truenodeids=nodes["trues"],
        nodes_falsenodeids=nodes["falses"], nodes_missing_value_tracks_true=nodes["missing"],
        **{prefix + "_treeids": leaves["treeids"], prefix + "_nodeids": leaves["nodeids"],
           prefix + "_ids": leaves["ids"], prefix + "_weights": leaves["weights"]},
        **attrs)
    graph = helper.make_graph([node], op, [helper.make_tensor_value_info(
        "X", TensorProto.FLOAT, ["n", X.shape[1]])], outputs)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13),
                                                   helper.make_opsetid("ai.onnx.ml", 1)])


params = dict(max_depth=4, eta=0.3, tree_method="hist", seed=1, nthread=1)
reg = xgb.train(dict(params, objective="reg:squarederror", base_score=0.25),
                xgb.DMatrix(X, label=y_reg), num_boost_round=12)
nodes, leaves = tree_nodes(reg, 1)
model = tree_graph("TreeEnsembleRegressor", nodes, leaves, "target",
                   [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["n", 1])],
                   n_targets=1, base_values=[0.25])
save("xgb_reg", model, X[:100], reg.predict(xgb.DMatrix(X[:100])).reshape(-1, 1))
reg.save_model(os.path.join(OUT, "xgb_reg.model.json"))  # for the export test (ONNX out)

binary = xgb.train(dict(params, objective="binary:logistic"), xgb.DMatrix(X, label=y_bin),
                   num_boost_round=8)
nodes, leaves = tree_nodes(binary, 1)
model = tree_graph("TreeEnsembleClassifier", nodes, leaves, "class",
                   [helper.make_tensor_value_info("label", TensorProto.INT64, ["n"]),
                    helper.make_tensor_value_info("probabilities", TensorProto.FLOAT,
                                                  ["n", 2])],
                   classlabels_int64s=[0, 1], post_transform="LOGISTIC", base_values=[0.0])
p = binary.predict(xgb.DMatrix(X[:100]))
save("xgb_binary", model, X[:100], np.stack([1 - p, p], axis=1))
binary.save_model(os.path.join(OUT, "xgb_binary.model.json"))

multi = xgb.train(dict(params, objective="multi:softprob", num_class=3),
                  xgb.DMatrix(X, label=y_multi), num_boost_round=6)
nodes, leaves = tree_nodes(multi, 3)
model = tree_graph("TreeEnsembleClassifier", nodes, leaves, "class",
                   [helper.make_tensor_value_info("label", TensorProto.INT64, ["n"]),
                    helper.make_tensor_value_info("probabilities", TensorProto.FLOAT,
                                                  ["n", 3])],
                   classlabels_int64s=[0, 1, 2], post_transform="SOFTMAX",
                   base_values=[0.5, 0.5, 0.5])
save("xgb_multi", model, X[:100], multi.predict(xgb.DMatrix(X[:100])))

# --- numpy_ops: the shape operators, by hand -----------------------------------------------
W = rng.normal(size=(4, 3)).astype(np.float32)
init = [numpy_helper.from_array(W, "W"),
        numpy_helper.from_array(np.array([-1, 2, 3], dtype=np.int64), "shape3"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
        numpy_helper.from_array(np.array([0], dtype=np.int64), "zero"),
        numpy_helper.from_array(np.array([4], dtype=np.int64), "four"),
        numpy_helper.from_array(np.array([2.0], dtype=np.float32), "two"),
        numpy_helper.from_array(np.array(-1.0, dtype=np.float32), "minus1")]
nodes = [
    helper.make_node("Reshape", ["X", "shape3"], ["r"]),                 # [n, 6] -> [n, 2, 3]
    helper.make_node("Flatten", ["r"], ["f"], axis=1),                   # [n, 6]
    helper.make_node("Slice", ["f", "zero", "four", "axis1"], ["s"]),    # [n, 4]
    helper.make_node("MatMul", ["s", "W"], ["m"]),                       # [n, 3]
    helper.make_node("Div", ["m", "two"], ["d"]),
    helper.make_node("Softmax", ["d"], ["sm"], axis=-1),
    helper.make_node("Exp", ["d"], ["e"]),
    helper.make_node("Sub", ["e", "sm"], ["es"]),
    helper.make_node("Unsqueeze", ["es", "axis1"], ["u"]),               # [n, 1, 3]
    helper.make_node("Squeeze", ["u", "axis1"], ["q"]),                  # [n, 3]
    helper.make_node("Shape", ["q"], ["shp"]),
    helper.make_node("Cast", ["shp"], ["shpf"], to=TensorProto.FLOAT),
    helper.make_node("Slice", ["shpf", "axis1", "four"], ["width"]),     # [1]: 3.0
    helper.make_node("Mul", ["q", "width"], ["qw"]),
    helper.make_node("Clip", ["qw", "minus1"], ["qc"]),                  # max(qw, -1)
    helper.make_node("Concat", ["qc", "sm"], ["Y"], axis=1),             # [n, 6]
]
graph = helper.make_graph(nodes, "numpy_ops",
                          [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["n", 6])],
                          [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["n", 6])],
                          initializer=init)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
Xn = rng.normal(size=(20, 6)).astype(np.float32)
d = (Xn[:, :4] @ W) / 2
sm = np.exp(d - d.max(axis=1, keepdims=True))
sm /= sm.sum(axis=1, keepdims=True)
save("numpy_ops", model, Xn,
     np.concatenate([np.maximum((np.exp(d) - sm) * 3, -1), sm], axis=1))

# --- identity graphs (bench/onnx: the cost of calling a runtime, without a model) ------------
for width in (6, 7):
    graph = helper.make_graph(
        [helper.make_node("Identity", ["X"], ["Y"])], "identity",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["n", width])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["n", width])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
              os.path.join(OUT, "identity_%d.onnx" % width))

# --- files to refuse ------------------------------------------------------------------------
def refuse(name, nodes, inputs, outputs, init=(), opsets=(("", 13),)):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=list(init))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets])
    onnx.save(model, os.path.join(OUT, name + ".onnx"))


x_in = helper.make_tensor_value_info("X", TensorProto.FLOAT, ["n", 4])
y_out = helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["n", 4])
refuse("bad_operator", [helper.make_node("Erf", ["X"], ["Y"])], [x_in], [y_out])
refuse("bad_attribute", [helper.make_node("Gemm", ["X", "W", "W"], ["Y"], alpha_beta=1.0)],
       [x_in], [y_out], init=[numpy_helper.from_array(np.eye(4, dtype=np.float32), "W")])
refuse("bad_two_inputs", [helper.make_node("Add", ["X", "Z"], ["Y"])],
       [x_in, helper.make_tensor_value_info("Z", TensorProto.FLOAT, ["n", 4])], [y_out])
refuse("bad_order", [helper.make_node("Relu", ["h"], ["Y"]), helper.make_node("Relu", ["X"], ["h"])],
       [x_in], [y_out])
refuse("bad_reshape", [helper.make_node("Reshape", ["X", "huge"], ["Y"])], [x_in], [y_out],
       init=[numpy_helper.from_array(np.array([1 << 20, 1 << 20], dtype=np.int64), "huge")])
with open(os.path.join(OUT, "bad_truncated.onnx"), "wb") as f:
    f.write(open(os.path.join(OUT, "torch_mlp.onnx"), "rb").read()[:200])
