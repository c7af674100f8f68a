// Test-only helpers for the model server's tests and benchmark (never linked into `bimride`):
//
//  - backend "baseline" (a name the registry accepts; test binaries only — it replaces any real
//    "baseline" backend in the process): artifact is JSON {"weights": [[…], …], "bias": […],
//    "predict_delay_us": 0, "fail_predict": false, "load_delay_ms": 0}; output o of a row x is
//    bias[o] + Σ_j weights[o][j]·x[j]. Loading fails with the backend's message when the JSON
//    is bad, which is how tests provoke backend errors.
//  - feature spec "test_trip_v1": raw fields pickup_zone (number), trip_distance (number),
//    pickup_datetime ("YYYY-MM-DD HH:MM:SS") → features [pickup_zone, trip_distance, hour].
//  - WriteTestVersion: publishes <repo>/<model>/<version>/ through the registry's
//    ModelRepository (so the layout, manifest and digests are the real ones).
//  - LoadTestServable: loads one published version as a Servable, without a manager.
//  - status_testing.h (header-only, gtest): FailureMessage for tests of failing calls.
//
// Thread safety: the backend's Predict is thread-safe; the writers are for test set-up.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "serving/dynamic_batcher.h"
#include "serving/servable.h"
#include "serving/serving_metrics.h"

namespace bimride::serving::testing {

// Registers the backend and the feature adapter (idempotent). Call at the start of a test.
void RegisterTestBackendAndFeatures();

struct TestVersionOptions {
  std::vector<std::vector<float>> weights = {{1, 1, 1}};  // outputs × features
  std::vector<float> bias = {0};
  std::vector<std::string> output_names = {"y"};
  std::string feature_spec;        // e.g. "test_trip_v1"
  int64_t predict_delay_us = 0;
  int64_t load_delay_ms = 0;       // the backend sleeps this long in Load (a slow, big model)
  bool fail_predict = false;       // backend errors on every Predict (so warm-up fails)
  bool corrupt_digest = false;     // model.json altered after publishing (sha256 mismatch)
  std::string backend = "baseline";
  std::string serving_method;      // manifest property "serving_method" ("classify": a classifier)
  std::vector<std::string> feature_names;  // manifest property "feature_names" when not empty
};

// A version over "test_trip_v1" (features [zone, distance, hour]) with two outputs:
// a = pickup_zone + hour, b = trip_distance.
TestVersionOptions TripVersionOptions();

// A classifier (manifest property serving_method = classify) over numeric rows of 3 features
// with two classes: "cash" scores x0, "card" scores x1.
TestVersionOptions ClassifierVersionOptions();

// `version` must be the next free version number of the model (the registry assigns it).
Status WriteTestVersion(const std::string& repo, const std::string& model, int64_t version,
                        const TestVersionOptions& options = {});

// LoadServableSpec + Servable::Load of <repo>/<model>/<version>; `metrics` may be null.
StatusOr<std::shared_ptr<const Servable>> LoadTestServable(const std::string& repo,
                                                           const std::string& model,
                                                           int64_t version,
                                                           const BatchingOptions& batching = {},
                                                           VersionMetrics* metrics = nullptr);

// A fresh empty folder under the system temp dir.
std::string MakeTempDir(const std::string& prefix);

}  // namespace bimride::serving::testing
