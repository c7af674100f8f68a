// ServableSpec: what the server needs to know about one model version on disk, read from the
// version's manifest (`<repo>/<model>/<version>/manifest.json`).
//
// The manifest format belongs to registry/ (registry/manifest.h); `LoadServableSpec` in
// model_source.h is the one place that maps a manifest onto this struct.
// Plain value; safe to copy between threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bimride::serving {

struct ServableSpec {
  std::string model;
  int64_t version = 0;
  std::string dir;            // the version folder
  std::string task;           // "eta", "demand", … (informational)
  std::string backend;        // key into models::LoadModel
  std::string artifact_path;  // path handed to the backend (the manifest's first artifact)

  // Numeric input tensor: rows × num_features floats.
  std::string input_name = "features";
  int num_features = -1;  // -1: unknown until the model is loaded
  // The input columns' names in order (the manifest's feature_names; registry/manifest.h), or
  // empty (then named by position). Checked against num_features when the model loads.
  std::vector<std::string> feature_names;

  // Raw request fields (pickup_zone, pickup_datetime, …) turned into features by the feature
  // adapter registered for `feature_spec` (the manifest's feature spec name; an adapter
  // registered as "name@version" is preferred). Empty spec: only numeric inputs are accepted.
  std::string feature_spec;
  int64_t feature_spec_version = 1;
  std::vector<std::string> raw_fields;

  std::vector<std::string> output_names;  // one per output column; filled from the model if empty

  // A classifier's output columns are class scores, its output names the class labels
  // (manifest property "serving_method": "classify"; serving/signature.h). Otherwise a regressor.
  bool classifier = false;
};

}  // namespace bimride::serving
