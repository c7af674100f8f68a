#include "data/trip_table.h"

#include <algorithm>

namespace bimride::data {

std::string_view TripSourceName(TripSource source) {
  switch (source) {
    case TripSource::kUnknown: return "unknown";
    case TripSource::kTlcGreen: return "tlc_green";
    case TripSource::kTlcYellow: return "tlc_yellow";
    case TripSource::kTlcFhv: return "tlc_fhv";
    case TripSource::kKaggle: return "kaggle";
    case TripSource::kUber: return "uber";
    case TripSource::kSimulator: return "simulator";
  }
  return "unknown";
}

StatusOr<TripSource> ParseTripSource(std::string_view name) {
  constexpr int kLast = static_cast<int>(TripSource::kSimulator);
  for (int s = 0; s <= kLast; ++s) {
    if (TripSourceName(static_cast<TripSource>(s)) == name) return static_cast<TripSource>(s);
  }
  std::string names;
  for (int s = 0; s <= kLast; ++s) {
    names += std::string(s == 0 ? "" : ", ") + std::string(TripSourceName(static_cast<TripSource>(s)));
  }
  return InvalidArgumentError("unknown trip source '" + std::string(name) + "' (want one of " +
                              names + ")");
}

void TripTable::Reserve(size_t n) {
#define X(col) col.reserve(n);
  BIMRIDE_TRIP_COLUMNS(X)
#undef X
}

Status CheckTripColumnNames(const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    bool known = false;
#define X(col) known = known || name == #col;
    BIMRIDE_TRIP_COLUMNS(X)
#undef X
    if (known) continue;
    std::string all;
#define X(col) all += std::string(all.empty() ? "" : ", ") + #col;
    BIMRIDE_TRIP_COLUMNS(X)
#undef X
    return InvalidArgumentError("no trip column '" + name + "' (the columns: " + all + ")");
  }
  return OkStatus();
}

void TripTable::Truncate(size_t n) {
#define X(col) col.resize(std::min(n, col.size()));
  BIMRIDE_TRIP_COLUMNS(X)
#undef X
}

void TripTable::Clear() {
#define X(col) col.clear();
  BIMRIDE_TRIP_COLUMNS(X)
#undef X
}

void TripTable::Append(const TripRow& row) {
#define X(col) col.push_back(row.col);
  BIMRIDE_TRIP_COLUMNS(X)
#undef X
}

TripRow TripTable::Row(size_t i) const {
  TripRow row;
#define X(col) row.col = col[i];
  BIMRIDE_TRIP_COLUMNS(X)
#undef X
  return row;
}

Status TripTable::AppendTable(const TripTable& other) {
  if (!empty() && source != other.source) {
    return InvalidArgumentError("cannot append " + std::string(TripSourceName(other.source)) +
                                " trips to a " + std::string(TripSourceName(source)) + " table");
  }
  if (empty()) source = other.source;
#define X(col) col.insert(col.end(), other.col.begin(), other.col.end());
  BIMRIDE_TRIP_COLUMNS(X)
#undef X
  return OkStatus();
}

TripTable TripTable::Take(const std::vector<size_t>& rows) const {
  TripTable out;
  out.source = source;
#define X(col)                                \
  out.col.resize(rows.size());                \
  for (size_t i = 0; i < rows.size(); ++i) out.col[i] = col[rows[i]];
  BIMRIDE_TRIP_COLUMNS(X)
#undef X
  return out;
}

Status TripTable::CheckConsistent() const {
  const size_t n = size();
#define X(col)                                                                            \
  if (col.size() != n) {                                                                  \
    return InternalError("TripTable column '" #col "' has " + std::to_string(col.size()) + \
                         " rows, expected " + std::to_string(n));                         \
  }
  BIMRIDE_TRIP_COLUMNS(X)
#undef X
  return OkStatus();
}

double TripTable::DurationMinutes(size_t i) const {
  if (pickup_time_us[i] == kNullTime || dropoff_time_us[i] == kNullTime) return std::nan("");
  return static_cast<double>(dropoff_time_us[i] - pickup_time_us[i]) / 60e6;
}

}  // namespace bimride::data
