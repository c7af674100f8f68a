#include "tasks/eta/eta_baselines.h"

#include <nlohmann/json.hpp>

#include "common/file.h"

namespace bimride::tasks::eta {
namespace {

int FeatureColumn(features::EtaFeatureSet set, const std::string& name) {
  const std::vector<std::string> names = features::EtaFeatureNames(set);
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

std::string_view EtaBaselineName(EtaBaselineKind kind) {
  switch (kind) {
    case EtaBaselineKind::kMean:
      return "mean";
    case EtaBaselineKind::kPairMedian:
      return "pair-median";
    case EtaBaselineKind::kSpeed:
      return "speed";
  }
  return "?";
}

StatusOr<EtaBaselineKind> ParseEtaBaselineKind(std::string_view text) {
  for (EtaBaselineKind k : kAllEtaBaselines) {
    if (text == EtaBaselineName(k)) return k;
  }
  return InvalidArgumentError("unknown ETA baseline '" + std::string(text) +
                              "' (mean | pair-median | speed)");
}

EtaBaselineModel::EtaBaselineModel(EtaBaselineKind kind, int num_features, int column,
                                   float constant)
    : kind_(kind), num_features_(num_features), column_(column), constant_(constant) {}

std::unique_ptr<EtaBaselineModel> EtaBaselineModel::Make(EtaBaselineKind kind,
                                                         features::EtaFeatureSet set,
                                                         float training_mean) {
  int column = -1;
  if (kind == EtaBaselineKind::kPairMedian) column = FeatureColumn(set, "pair_median_minutes");
  if (kind == EtaBaselineKind::kSpeed) {
    column = FeatureColumn(set, set == features::EtaFeatureSet::kWithDistance
                                    ? "expected_minutes_hour_speed"
                                    : "expected_minutes_booking");
  }
  return std::make_unique<EtaBaselineModel>(kind, features::EtaFeatureCount(set), column,
                                            training_mean);
}

Status EtaBaselineModel::Predict(const float* features, int64_t rows, float* out) const {
  if (rows < 0) return InvalidArgumentError("baseline: rows < 0");
  for (int64_t r = 0; r < rows; ++r) {
    out[r] = column_ < 0 ? constant_ : features[r * num_features_ + column_];
  }
  return OkStatus();
}

Status EtaBaselineModel::Save(const std::string& path) const {
  nlohmann::json j = {{"format", "bimride_eta_baseline"},
                      {"kind", std::string(EtaBaselineName(kind_))},
                      {"num_features", num_features_},
                      {"column", column_},
                      {"constant", constant_}};
  return WriteFileAtomic(path, j.dump(1) + "\n");
}

StatusOr<std::unique_ptr<EtaBaselineModel>> EtaBaselineModel::Load(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("format", "") != "bimride_eta_baseline") {
    return InvalidArgumentError(path + ": not a bimride_eta_baseline JSON file");
  }
  try {
    ASSIGN_OR_RETURN(EtaBaselineKind kind, ParseEtaBaselineKind(j.at("kind").get<std::string>()));
    const int f = j.at("num_features").get<int>();
    const int column = j.at("column").get<int>();
    if (f <= 0 || column >= f) return InvalidArgumentError(path + ": column out of range");
    return std::make_unique<EtaBaselineModel>(kind, f, column, j.at("constant").get<float>());
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgumentError(path + ": " + e.what());
  }
}

}  // namespace bimride::tasks::eta
