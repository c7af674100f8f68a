#include "tasks/behaviour/behaviour_serving.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <memory>
#include <sstream>

#include "common/civil_time.h"
#include "common/file.h"

namespace bimride::tasks::behaviour {
namespace {

using serving::FeatureAdapter;
using serving::FeatureAdapterContext;
using serving::RawBatch;
using serving::RawColumn;

constexpr char kHeader[] =
    "rider_id,quotes,bookings,dear_quotes,dear_bookings,recent_surge,last_booking";

std::string RowError(int64_t row, const std::string& field, const std::string& what) {
  return std::string(kConversionFeatureSpecName) + ": row " + std::to_string(row) + ": field '" +
         field + "': " + what;
}

std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  std::stringstream in(line);
  while (std::getline(in, cell, ',')) out.push_back(cell);
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

bool ParseInt(const std::string& s, int64_t* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return false;
  *out = v;
  return true;
}

bool ParseNumber(const std::string& s, double* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (*end != '\0' || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

}  // namespace

std::vector<std::string> ConversionRawFields() {
  return {"rider_id",          "request_datetime", "pickup_zone", "dropoff_zone",
          "estimated_distance", "estimated_minutes", "quoted_fare", "surge_multiplier"};
}

std::string RiderFeaturesToCsv(const std::vector<RiderHistory>& histories) {
  std::string out = std::string(kHeader) + "\n";
  char line[256];
  for (size_t id = 1; id < histories.size(); ++id) {
    const RiderHistory& h = histories[id];
    if (h.quotes == 0) continue;
    std::snprintf(line, sizeof line, "%zu,%d,%d,%d,%d,%.17g,", id, h.quotes, h.bookings,
                  h.dear_quotes, h.dear_bookings, h.recent_surge);
    out += line;
    if (h.last_booking_us >= 0) out += FormatCivil(h.last_booking_us);
    out += "\n";
  }
  return out;
}

StatusOr<std::unordered_map<int64_t, RiderHistory>> RiderFeaturesFromCsv(
    const std::string& text, const std::string& source) {
  std::stringstream in(text);
  std::string line;
  if (!std::getline(in, line) || line != kHeader) {
    return InvalidArgumentError(source + ": line 1: header must be '" + kHeader + "'");
  }
  std::unordered_map<int64_t, RiderHistory> out;
  int64_t number = 1;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    auto bad = [&](const std::string& what) {
      return InvalidArgumentError(source + ": line " + std::to_string(number) + ": " + what);
    };
    const std::vector<std::string> f = SplitCsvLine(line);
    if (f.size() != 7) return bad("want 7 fields, got " + std::to_string(f.size()));
    int64_t id, quotes, bookings, dear_quotes, dear_bookings;
    RiderHistory h;
    if (!ParseInt(f[0], &id) || id < 1) return bad("rider_id must be a whole number >= 1");
    if (!ParseInt(f[1], &quotes) || !ParseInt(f[2], &bookings) || !ParseInt(f[3], &dear_quotes) ||
        !ParseInt(f[4], &dear_bookings) || quotes < 0 || bookings < 0 || bookings > quotes ||
        dear_quotes < 0 || dear_bookings < 0 || dear_bookings > dear_quotes ||
        dear_quotes > quotes) {
      return bad("counts must be whole numbers >= 0 with bookings <= quotes");
    }
    if (!ParseNumber(f[5], &h.recent_surge) || h.recent_surge < 1) {
      return bad("recent_surge must be a number >= 1");
    }
    if (!f[6].empty()) {
      StatusOr<int64_t> t = ParseCivil(f[6]);
      if (!t.ok()) return bad("last_booking: " + t.status().message());
      h.last_booking_us = *t;
    }
    h.quotes = static_cast<int32_t>(quotes);
    h.bookings = static_cast<int32_t>(bookings);
    h.dear_quotes = static_cast<int32_t>(dear_quotes);
    h.dear_bookings = static_cast<int32_t>(dear_bookings);
    if (!out.emplace(id, h).second) return bad("rider " + f[0] + " appears twice");
  }
  return out;
}

StatusOr<FeatureAdapter> MakeConversionFeatureAdapter(const FeatureAdapterContext& context) {
  const std::string path = context.version_dir + "/" + kRiderFeaturesFile;
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  ASSIGN_OR_RETURN(auto riders, RiderFeaturesFromCsv(text, path));
  auto state = std::make_shared<const std::unordered_map<int64_t, RiderHistory>>(std::move(riders));
  return FeatureAdapter([state](const RawBatch& batch,
                                int num_features) -> StatusOr<std::vector<float>> {
    if (num_features != kConversionFeatures) {
      return InvalidArgumentError(std::string(kConversionFeatureSpecName) + ": model takes " +
                                  std::to_string(num_features) + " features, the spec makes " +
                                  std::to_string(kConversionFeatures));
    }
    const std::vector<std::string> names = ConversionRawFields();
    std::vector<const RawColumn*> cols;
    for (const std::string& name : names) {
      const RawColumn* c = batch.Find(name);
      if (c == nullptr) {
        return InvalidArgumentError(std::string(kConversionFeatureSpecName) +
                                    ": missing raw field '" + name + "'");
      }
      cols.push_back(c);
    }
    std::vector<float> out(static_cast<size_t>(batch.rows) * num_features);
    const RiderHistory newcomer;
    for (int64_t r = 0; r < batch.rows; ++r) {
      double num[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      for (size_t i = 0; i < names.size(); ++i) {
        if (i == 1) continue;  // the time, a string
        const double* v = std::get_if<double>(&cols[i]->values[r]);
        if (v == nullptr || !std::isfinite(*v)) {
          return InvalidArgumentError(RowError(r, names[i], "must be a number"));
        }
        num[i] = *v;
      }
      if (num[0] != std::floor(num[0]) || num[0] < 1) {
        return InvalidArgumentError(RowError(r, "rider_id", "must be a whole number >= 1"));
      }
      for (int i : {2, 3}) {
        if (num[i] != std::floor(num[i]) || num[i] < 1 || num[i] > 1e6) {
          return InvalidArgumentError(RowError(r, names[i], "must be a zone id (a whole number >= 1)"));
        }
      }
      if (num[4] < 0 || num[5] < 0) {
        return InvalidArgumentError(
            RowError(r, num[4] < 0 ? names[4] : names[5], "must be >= 0"));
      }
      if (!(num[6] > 0)) return InvalidArgumentError(RowError(r, "quoted_fare", "must be > 0"));
      if (!(num[7] >= 1)) {
        return InvalidArgumentError(RowError(r, "surge_multiplier", "must be >= 1"));
      }
      const std::string* t_text = std::get_if<std::string>(&cols[1]->values[r]);
      if (t_text == nullptr) {
        return InvalidArgumentError(
            RowError(r, "request_datetime", "must be a string 'YYYY-MM-DD HH:MM:SS'"));
      }
      StatusOr<int64_t> t = ParseCivil(*t_text);
      if (!t.ok()) return InvalidArgumentError(RowError(r, "request_datetime", t.status().message()));
      QuoteFields q;
      q.time_us = *t;
      q.pickup_zone = static_cast<int32_t>(num[2]);
      q.dropoff_zone = static_cast<int32_t>(num[3]);
      q.estimated_miles = num[4];
      q.estimated_minutes = num[5];
      q.quoted_fare = num[6];
      auto it = state->find(static_cast<int64_t>(num[0]));
      ConversionFeatureRow(q, num[7], it == state->end() ? newcomer : it->second,
                           &out[static_cast<size_t>(r) * num_features]);
    }
    return out;
  });
}

std::vector<std::string> RetentionRawFields() { return {"rider_id"}; }

namespace {

std::string RetentionHeader(const std::array<const char*, kRetentionFeatures>& names) {
  std::string h = "rider_id";
  for (const char* n : names) h += std::string(",") + n;
  return h;
}

}  // namespace

std::string RetentionFeaturesToCsv(int64_t snapshot_us, const std::vector<int64_t>& rider_id,
                                   const std::vector<float>& features) {
  std::string out = "# snapshot " + FormatCivil(snapshot_us) + "\n" +
                    RetentionHeader(kRetentionFeatureNames) + "\n";
  char cell[64];
  for (size_t r = 0; r < rider_id.size(); ++r) {
    out += std::to_string(rider_id[r]);
    for (int k = 0; k < kRetentionFeatures; ++k) {
      std::snprintf(cell, sizeof cell, ",%.9g", features[r * kRetentionFeatures + k]);
      out += cell;
    }
    out += "\n";
  }
  return out;
}

StatusOr<RetentionFeatureTable> RetentionFeaturesFromCsv(const std::string& text,
                                                         const std::string& source,
                                                         int64_t spec_version) {
  if (spec_version != 1 && spec_version != 2) {
    return InvalidArgumentError(source + ": " + kRetentionFeatureSpecName + " version " +
                                std::to_string(spec_version) + " is not known (want 1 or 2)");
  }
  const auto& names = spec_version == 1 ? kRetentionFeatureNamesV1 : kRetentionFeatureNames;
  std::stringstream in(text);
  std::string line;
  RetentionFeatureTable t;
  const std::string prefix = "# snapshot ";
  if (!std::getline(in, line) || line.rfind(prefix, 0) != 0) {
    return InvalidArgumentError(source + ": line 1: want '# snapshot YYYY-MM-DD HH:MM:SS'");
  }
  StatusOr<int64_t> when = ParseCivil(line.substr(prefix.size()));
  if (!when.ok()) return InvalidArgumentError(source + ": line 1: " + when.status().message());
  t.snapshot_us = *when;
  const std::string header = RetentionHeader(names);
  if (!std::getline(in, line) || line != header) {
    return InvalidArgumentError(source + ": line 2: header must be '" + header + "'");
  }
  int64_t number = 2;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    auto bad = [&](const std::string& what) {
      return InvalidArgumentError(source + ": line " + std::to_string(number) + ": " + what);
    };
    const std::vector<std::string> f = SplitCsvLine(line);
    if (f.size() != kRetentionFeatures + 1) {
      return bad("want " + std::to_string(kRetentionFeatures + 1) + " fields, got " +
                 std::to_string(f.size()));
    }
    int64_t id = 0;
    if (!ParseInt(f[0], &id) || id < 1) return bad("rider_id must be a whole number >= 1");
    std::vector<float> row(kRetentionFeatures);
    for (int k = 0; k < kRetentionFeatures; ++k) {
      double v = 0;
      if (!ParseNumber(f[k + 1], &v) || v < 0) {
        return bad(std::string(names[k]) + " must be a number >= 0");
      }
      row[k] = static_cast<float>(v);
    }
    if (!t.rows.emplace(id, std::move(row)).second) return bad("rider " + f[0] + " appears twice");
  }
  return t;
}

StatusOr<FeatureAdapter> MakeRetentionFeatureAdapter(const FeatureAdapterContext& context) {
  const std::string path = context.version_dir + "/" + kRetentionFeaturesFile;
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  ASSIGN_OR_RETURN(RetentionFeatureTable table,
                   RetentionFeaturesFromCsv(text, path, context.feature_spec_version));
  auto state = std::make_shared<const RetentionFeatureTable>(std::move(table));
  return FeatureAdapter([state](const RawBatch& batch,
                                int num_features) -> StatusOr<std::vector<float>> {
    const std::string spec = kRetentionFeatureSpecName;
    if (num_features != kRetentionFeatures) {
      return InvalidArgumentError(spec + ": model takes " + std::to_string(num_features) +
                                  " features, the spec makes " +
                                  std::to_string(kRetentionFeatures));
    }
    const RawColumn* ids = batch.Find("rider_id");
    if (ids == nullptr) return InvalidArgumentError(spec + ": missing raw field 'rider_id'");
    std::vector<float> out(static_cast<size_t>(batch.rows) * num_features);
    for (int64_t r = 0; r < batch.rows; ++r) {
      const std::string where = spec + ": row " + std::to_string(r) + ": field 'rider_id': ";
      const double* v = std::get_if<double>(&ids->values[r]);
      if (v == nullptr || !std::isfinite(*v) || *v != std::floor(*v) || *v < 1) {
        return InvalidArgumentError(where + "must be a whole number >= 1");
      }
      const auto it = state->rows.find(static_cast<int64_t>(*v));
      if (it == state->rows.end()) {
        return InvalidArgumentError(where + "rider " + std::to_string(static_cast<int64_t>(*v)) +
                                    " was not active at the snapshot (" +
                                    FormatCivil(state->snapshot_us) + "): no features");
      }
      std::copy(it->second.begin(), it->second.end(),
                out.begin() + static_cast<ptrdiff_t>(r) * num_features);
    }
    return out;
  });
}

std::vector<std::pair<std::string, serving::FeatureAdapterFactory>> BehaviourFeatureSpecs() {
  return {{kConversionFeatureSpecName, MakeConversionFeatureAdapter},
          {kRetentionFeatureSpecName, MakeRetentionFeatureAdapter}};
}

}  // namespace bimride::tasks::behaviour
