// ETA baselines, as models::Model over the ETA feature row (so they are evaluated exactly like
// the learned models, on the same rows):
//   mean          the training mean duration;
//   pair-median   the median duration of the zone pair in training, with fallbacks
//                 (reverse pair → pickup/dropoff zone medians → global median), i.e. the
//                 feature pair_median_minutes;
//   speed         distance ÷ the typical speed of the pickup's hour of week in training:
//                 the metered trip_distance with eta_with_distance (expected_minutes_hour_speed),
//                 the pair's typical distance at booking time (expected_minutes_booking).
// Saved as baseline.json {"format": "bimride_eta_baseline", "kind", "num_features", "column",
// "constant"}. Thread safety: Predict is const and thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "features/eta_features.h"
#include "models/model.h"

namespace bimride::tasks::eta {

enum class EtaBaselineKind { kMean, kPairMedian, kSpeed };
inline constexpr EtaBaselineKind kAllEtaBaselines[] = {
    EtaBaselineKind::kMean, EtaBaselineKind::kPairMedian, EtaBaselineKind::kSpeed};
std::string_view EtaBaselineName(EtaBaselineKind kind);  // "mean", "pair-median", "speed"
StatusOr<EtaBaselineKind> ParseEtaBaselineKind(std::string_view text);

class EtaBaselineModel : public models::Model {
 public:
  // `column` < 0: predict `constant`.
  EtaBaselineModel(EtaBaselineKind kind, int num_features, int column, float constant);
  // The baseline for a feature set; `training_mean` is used by kMean.
  static std::unique_ptr<EtaBaselineModel> Make(EtaBaselineKind kind, features::EtaFeatureSet set,
                                                float training_mean);
  std::string_view backend() const override { return "baseline"; }
  int num_features() const override { return num_features_; }
  int num_outputs() const override { return 1; }
  Status Predict(const float* features, int64_t rows, float* out) const override;
  using models::Model::Predict;
  EtaBaselineKind kind() const { return kind_; }

  Status Save(const std::string& path) const;
  static StatusOr<std::unique_ptr<EtaBaselineModel>> Load(const std::string& path);

 private:
  EtaBaselineKind kind_;
  int num_features_;
  int column_;
  float constant_;
};

}  // namespace bimride::tasks::eta
