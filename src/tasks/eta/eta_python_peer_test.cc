// Python users load our exported ETA net: Debian's python3-torch runs torch.jit.load on
// model.pt and, fed the ETA features of the same trips, predicts what LibTorch predicts.
// Labelled slow (a Python start costs seconds).
#include <gtest/gtest.h>

#include "common/civil_time.h"
#include "models/model_test_util.h"
#include "tasks/eta/eta_test_util.h"
#include "tasks/eta/eta_training.h"

namespace bimride::tasks::eta {
namespace {

TEST(EtaPythonPeerTest, PythonTorchJitLoadsTheExportedEtaNetAndPredictsTheSame) {
  auto train =
      MakeEtaDataset(testing::SyntheticTrips(2000, 21, DaysFromCivil(2021, 1, 1), 28, true), {});
  auto valid =
      MakeEtaDataset(testing::SyntheticTrips(300, 22, DaysFromCivil(2021, 2, 1), 28, true), {});
  ASSERT_TRUE(train.ok() && valid.ok());
  EtaTrainConfig c =
      DefaultEtaTrainConfig(features::EtaFeatureSet::kWithDistance, "torch");
  c.params["epochs"] = "2";
  c.params["hidden_sizes"] = "32,16";
  c.threads = 1;
  const std::string dir = testing::TempDir("python_peer");
  auto result = TrainEtaModel(*train, *valid, nullptr, nullptr, c, dir, nullptr);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  auto loaded = LoadEtaModel(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  auto x =
      features::ComputeEtaFeatures(loaded->context, features::EtaRequestsFromTrips(valid->trips));
  ASSERT_TRUE(x.ok());
  auto ours = PredictEta(*loaded, valid->trips);
  ASSERT_TRUE(ours.ok());
  ASSERT_TRUE(models::testing::WriteFloats(dir + "/x.bin", *x).ok());
  const int width = features::EtaFeatureCount(features::EtaFeatureSet::kWithDistance);
  Status py = models::testing::RunPython(dir, R"(
import numpy as np, torch, sys
d = sys.argv[0].rsplit('/', 1)[0]
m = torch.jit.load(d + '/model.pt')
x = torch.from_numpy(np.fromfile(d + '/x.bin', dtype=np.float32).reshape(-1, m.num_features))
with torch.no_grad():
    m(x).numpy().astype(np.float32).tofile(d + '/y.bin')
)");
  ASSERT_TRUE(py.ok()) << py.ToString();
  auto theirs = models::testing::ReadFloats(dir + "/y.bin");
  ASSERT_TRUE(theirs.ok());
  ASSERT_EQ(theirs->size(), ours->size());
  EXPECT_EQ(static_cast<int>(x->size() / ours->size()), width);
  models::testing::ExpectClose(*ours, *theirs, 1e-5, "LibTorch vs Python torch.jit.load");
}

}  // namespace
}  // namespace bimride::tasks::eta
