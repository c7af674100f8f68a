// Cross-checks against the Python peers (/usr/bin/python3 with Debian's python3-torch and
// python3-xgboost): files we write load in Python and give the same outputs; files Python writes
// load in our backends and give Python's outputs. Labelled slow: each Python start costs seconds.
#include <gtest/gtest.h>

#include "models/model.h"
#include "models/model_test_util.h"
#include "models/native/native_mlp_model.h"
#include "models/native/tree_ensemble.h"
#include "models/torch/tabular_net.h"
#include "models/torch/torchscript_model.h"
#include "models/xgboost/xgboost_model.h"

namespace bimride::models {
namespace {

using testing::ExpectClose;

TEST(PythonPeerTest, PythonLoadsOurTorchScriptExportAndComputesTheSame) {
  torch_backend::TabularNetOptions o;
  o.categorical = {{0, 10, 4}, {1, 24, 3}};
  o.hidden_sizes = {16, 8};
  o.epochs = 1;
  o.loss = torch_backend::TabularLoss::kPoisson;
  auto trained = torch_backend::TrainTabularNet(testing::MakeSyntheticData(500, 2, 11, true),
                                                nullptr, o);
  ASSERT_TRUE(trained.ok()) << trained.status().ToString();
  std::string dir = testing::MakeTempDir("py_torch");
  ASSERT_TRUE(torch_backend::ExportTabularNet(trained->net, dir).ok());
  std::vector<float> x = testing::RandomInputs(300, 4, 12, /*with_nan=*/false);
  x[0] = NAN;
  ASSERT_TRUE(testing::WriteFloats(dir + "/x.bin", x).ok());
  auto script = torch_backend::LoadTorchScriptModel(dir + "/model.pt", LoadOptions{});
  ASSERT_TRUE(script.ok()) << script.status().ToString();
  auto ours = (*script)->Predict(x);
  ASSERT_TRUE(ours.ok()) << ours.status().ToString();

  Status py = testing::RunPython(dir, R"(
import numpy as np, torch, sys
d = sys.argv[0].rsplit('/', 1)[0]
m = torch.jit.load(d + '/model.pt')
assert m.num_features == 4 and m.num_outputs == 2
x = torch.from_numpy(np.fromfile(d + '/x.bin', dtype=np.float32).reshape(-1, 4))
with torch.no_grad():
    m(x).numpy().astype(np.float32).tofile(d + '/y.bin')
)");
  ASSERT_TRUE(py.ok()) << py.ToString();
  auto from_python = testing::ReadFloats(dir + "/y.bin");
  ASSERT_TRUE(from_python.ok());
  ExpectClose(*ours, *from_python, 1e-5, "LibTorch vs Python");
}

// A module scripted and saved by Python: with num_features/num_outputs attributes it loads on
// its own; without them it needs LoadOptions. Outputs equal Python's.
TEST(PythonPeerTest, PythonScriptedModuleLoadsAndPredictsLikePython) {
  std::string dir = testing::MakeTempDir("py_script");
  std::vector<float> x = testing::RandomInputs(64, 3, 13, /*with_nan=*/false);
  ASSERT_TRUE(testing::WriteFloats(dir + "/x.bin", x).ok());
  Status py = testing::RunPython(dir, R"(
import numpy as np, torch, sys
d = sys.argv[0].rsplit('/', 1)[0]
torch.manual_seed(0)
class WithShape(torch.nn.Module):
    num_features: int
    num_outputs: int
    def __init__(self):
        super().__init__()
        self.num_features = 3
        self.num_outputs = 2
        self.lin = torch.nn.Linear(3, 8)
        self.out = torch.nn.Linear(8, 2)
    def forward(self, x):
        return torch.sigmoid(self.out(torch.tanh(self.lin(x)))) * 3.0
class Plain(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(3, 1)
    def forward(self, x):
        return self.lin(x).squeeze(1)
x = torch.from_numpy(np.fromfile(d + '/x.bin', dtype=np.float32).reshape(-1, 3))
for name, m in [('with_shape', WithShape()), ('plain', Plain())]:
    m.eval()
    s = torch.jit.script(m)
    torch.jit.save(s, d + '/' + name + '.pt')
    with torch.no_grad():
        s(x).numpy().astype(np.float32).tofile(d + '/' + name + '.bin')
)");
  ASSERT_TRUE(py.ok()) << py.ToString();

  auto with_shape = LoadModel("torchscript", dir + "/with_shape.pt");
  ASSERT_TRUE(with_shape.ok()) << with_shape.status().ToString();
  EXPECT_EQ((*with_shape)->num_features(), 3);
  EXPECT_EQ((*with_shape)->num_outputs(), 2);
  auto expected = testing::ReadFloats(dir + "/with_shape.bin");
  auto got = (*with_shape)->Predict(x);
  ASSERT_TRUE(expected.ok() && got.ok());
  ExpectClose(*got, *expected, 1e-5, "with_shape");

  auto plain = LoadModel("torchscript", dir + "/plain.pt");
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.status().code(), StatusCode::kInvalidArgument);
  LoadOptions options;
  options.num_features = 3;
  options.num_outputs = 1;
  plain = LoadModel("torchscript", dir + "/plain.pt", options);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  expected = testing::ReadFloats(dir + "/plain.bin");
  got = (*plain)->Predict(x);
  ASSERT_TRUE(expected.ok() && got.ok());
  ExpectClose(*got, *expected, 1e-5, "plain");
}

// A model trained and saved by Python's xgboost loads in both tree backends and predicts what
// Python predicts, missing values included.
TEST(PythonPeerTest, PythonXgboostModelPredictsLikePython) {
  std::string dir = testing::MakeTempDir("py_xgb");
  std::vector<float> x = testing::RandomInputs(500, 5, 8, /*with_nan=*/true);
  ASSERT_TRUE(testing::WriteFloats(dir + "/x.bin", x).ok());
  Status py = testing::RunPython(dir, R"(
import numpy as np, xgboost as xgb, sys
d = sys.argv[0].rsplit('/', 1)[0]
rng = np.random.default_rng(0)
X = rng.normal(size=(1000, 5)).astype(np.float32)
X[rng.random(X.shape) < 0.1] = np.nan
y = np.nan_to_num(X[:, 0]) * 2 + np.nan_to_num(X[:, 1]) ** 2 + rng.normal(size=1000) * 0.1
b = xgb.train({'max_depth': 5, 'eta': 0.2, 'tree_method': 'hist', 'objective': 'reg:squarederror',
               'base_score': 0.7}, xgb.DMatrix(X, label=y), 40)
b.save_model(d + '/py.json')
x = np.fromfile(d + '/x.bin', dtype=np.float32).reshape(-1, 5)
b.inplace_predict(x).astype(np.float32).tofile(d + '/y.bin')
)");
  ASSERT_TRUE(py.ok()) << py.ToString();
  auto expected = testing::ReadFloats(dir + "/y.bin");
  ASSERT_TRUE(expected.ok());
  for (std::string backend : {"xgboost", "native_trees"}) {
    auto m = LoadModel(backend, dir + "/py.json");
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ((*m)->num_features(), 5);
    auto got = (*m)->Predict(x);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ExpectClose(*got, *expected, 1e-5, backend + " vs Python");
  }
}

}  // namespace
}  // namespace bimride::models
