#include "tasks/demand/demand_online.h"

#include <cmath>
#include <limits>

#include "common/civil_time.h"
#include "common/logging.h"
#include "features/demand_grid.h"

namespace bimride::tasks::demand {
namespace {

constexpr int kOnlineBucketMinutes[] = {15, 30, 60};

int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : (a - b + 1) / b; }

std::string EventError(int64_t row, const std::string& field, const std::string& what) {
  return "pickups: events[" + std::to_string(row) + "]." + field + ": " + what;
}

}  // namespace

std::string DemandPickupsKey(int bucket_minutes, int32_t zone) {
  return "demand:pickups:m=" + std::to_string(bucket_minutes) + ":zone=" + std::to_string(zone);
}

StatusOr<int64_t> RecordPickups(const serving::RawBatch& events, online::FeatureStore& store) {
  const serving::RawColumn* zone = events.Find("zone");
  const serving::RawColumn* time = events.Find("time");
  const serving::RawColumn* count = events.Find("count");
  for (const serving::RawColumn& c : events.columns) {
    if (c.name != "zone" && c.name != "time" && c.name != "count") {
      return InvalidArgumentError("pickups: unknown field '" + c.name +
                                  "' (expected zone, time, count)");
    }
  }
  if (zone == nullptr || time == nullptr) {
    return InvalidArgumentError(std::string("pickups: every event needs '") +
                                (zone == nullptr ? "zone" : "time") + "'");
  }
  std::vector<online::Increment> increments;
  increments.reserve(static_cast<size_t>(events.rows) * std::size(kOnlineBucketMinutes));
  for (int64_t r = 0; r < events.rows; ++r) {
    const double* z = std::get_if<double>(&zone->values[r]);
    if (z == nullptr || *z != std::floor(*z) || *z < 1 ||
        *z > std::numeric_limits<int32_t>::max()) {
      return InvalidArgumentError(EventError(r, "zone", "must be a zone id (a whole number >= 1)"));
    }
    const std::string* t_text = std::get_if<std::string>(&time->values[r]);
    if (t_text == nullptr) {
      return InvalidArgumentError(EventError(r, "time", "must be a string 'YYYY-MM-DD HH:MM'"));
    }
    StatusOr<int64_t> t = ParseCivil(*t_text);
    if (!t.ok()) return InvalidArgumentError(EventError(r, "time", t.status().message()));
    double n = 1;
    if (count != nullptr) {
      const double* c = std::get_if<double>(&count->values[r]);
      if (c == nullptr || *c < 0 || *c != std::floor(*c) || *c > 1e9) {
        return InvalidArgumentError(EventError(r, "count", "must be a whole number >= 0"));
      }
      n = *c;
    }
    for (int minutes : kOnlineBucketMinutes) {
      increments.push_back({DemandPickupsKey(minutes, static_cast<int32_t>(*z)),
                            FloorDiv(*t, minutes * kMicrosPerMinute), n, kDemandPickupsTtlSeconds});
    }
  }
  RETURN_IF_ERROR(store.AddMany(increments));
  return events.rows;
}

RecentCountsReader::RecentCountsReader(online::FeatureStore* store,
                                       const features::DemandFeatures* features,
                                       const features::DemandBaselines* baselines)
    : store_(store), features_(features), baselines_(baselines) {}

std::vector<float> RecentCountsReader::BaselineHistory(int32_t zone, int64_t t) const {
  const int minutes = features_->config().bucket_minutes;
  const int64_t bucket_us = minutes * kMicrosPerMinute;
  const int w = features_->history_buckets();
  std::vector<float> out(static_cast<size_t>(w), 0.0f);
  const int pos = baselines_->ZonePosition(zone);
  if (pos < 0) return out;  // the features then refuse the zone, naming it
  const int64_t first = FloorDiv(t, bucket_us) - w;
  for (int i = 0; i < w; ++i) {
    const features::BucketCalendar cal =
        features::CalendarOfBucket((first + i) * bucket_us, minutes);
    out[static_cast<size_t>(i)] =
        baselines_->WeekdaySlotMean(static_cast<size_t>(pos), cal.weekday, cal.slot_of_day);
  }
  return out;
}

std::vector<std::vector<float>> RecentCountsReader::Read(const std::vector<int32_t>& zones,
                                                         const std::vector<int64_t>& ts) {
  const int minutes = features_->config().bucket_minutes;
  const int64_t bucket_us = minutes * kMicrosPerMinute;
  const int w = features_->history_buckets();
  std::vector<online::RangeQuery> queries;
  queries.reserve(zones.size());
  for (size_t r = 0; r < zones.size(); ++r) {
    queries.push_back({DemandPickupsKey(minutes, zones[r]), FloorDiv(ts[r], bucket_us) - w, w});
  }
  StatusOr<std::vector<std::vector<std::optional<double>>>> read = store_->RangeMany(queries);
  std::vector<std::vector<float>> out(zones.size());
  int64_t no_data = 0, last_read = 0, baseline = 0;
  if (read.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t r = 0; r < zones.size(); ++r) {
      const std::vector<std::optional<double>>& values = (*read)[r];
      bool any = false;
      std::vector<float>& h = out[r];
      h.resize(static_cast<size_t>(w));
      for (int i = 0; i < w; ++i) {
        any = any || values[static_cast<size_t>(i)].has_value();
        h[static_cast<size_t>(i)] = static_cast<float>(values[static_cast<size_t>(i)].value_or(0));
      }
      if (!any) {
        h = BaselineHistory(zones[r], ts[r]);
        ++no_data;
        continue;
      }
      LastRead& last = last_read_[zones[r]];
      if (queries[r].first >= last.first || last.values.empty()) last = {queries[r].first, h};
    }
  } else {
    BIMRIDE_LOG(DEBUG) << "demand recent counts: " << read.status().ToString();
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t r = 0; r < zones.size(); ++r) {
      out[r] = BaselineHistory(zones[r], ts[r]);
      auto it = last_read_.find(zones[r]);
      if (it == last_read_.end()) {
        ++baseline;
        continue;
      }
      const LastRead& last = it->second;
      const int64_t first = queries[r].first;
      for (int i = 0; i < w; ++i) {
        const int64_t j = first + i - last.first;  // position in the last read
        if (j >= 0 && j < static_cast<int64_t>(last.values.size())) {
          out[r][static_cast<size_t>(i)] = last.values[static_cast<size_t>(j)];
        }
      }
      ++last_read;
    }
  }
  if (no_data > 0) store_->CountFallback(kRecentCountsReader, "no_data", no_data);
  if (last_read > 0) store_->CountFallback(kRecentCountsReader, "last_read", last_read);
  if (baseline > 0) store_->CountFallback(kRecentCountsReader, "baseline", baseline);
  return out;
}

}  // namespace bimride::tasks::demand
