#include "data/trip_parquet.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>

#include "common/civil_time.h"
#include "data/trip_layout_file.h"
#include "data/trip_layouts.h"
#include "parquet/file_reader.h"
#include "parquet/file_writer.h"

namespace bimride::data {
namespace {

namespace pq = ::bimride::parquet;

using Target = layouts::TripColumn;
using Binding = layouts::ColumnBinding;

using Layout = layouts::SourceLayout;

bool SameName(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

int FindColumn(const std::vector<pq::ColumnSchema>& schema, std::string_view name) {
  for (size_t i = 0; i < schema.size(); ++i) {
    if (SameName(schema[i].name, name)) return static_cast<int>(i);
  }
  return -1;
}

bool IsNumeric(pq::PhysicalType t) {
  return t == pq::PhysicalType::kInt32 || t == pq::PhysicalType::kInt64 ||
         t == pq::PhysicalType::kFloat || t == pq::PhysicalType::kDouble ||
         t == pq::PhysicalType::kBoolean;
}

double NumberAt(const pq::Column& c, int64_t i) {
  switch (c.physical) {
    case pq::PhysicalType::kInt32: return c.i32[i];
    case pq::PhysicalType::kInt64:
    case pq::PhysicalType::kInt96: return static_cast<double>(c.i64[i]);
    case pq::PhysicalType::kFloat: return c.f32[i];
    case pq::PhysicalType::kDouble: return c.f64[i];
    case pq::PhysicalType::kBoolean: return c.boolean[i];
    default: return std::nan("");
  }
}

// Divisor from the stored unit to microseconds (negative: multiply), or 0 when not a time.
int64_t MicrosDivisor(const pq::ColumnSchema& s) {
  if (s.physical == pq::PhysicalType::kInt96) return 1000;
  if (s.physical != pq::PhysicalType::kInt64 || s.logical != pq::LogicalKind::kTimestamp) return 0;
  switch (s.time_unit) {
    case pq::TimeUnit::kMillis: return -1000;
    case pq::TimeUnit::kMicros: return 1;
    case pq::TimeUnit::kNanos: return 1000;
    default: return 0;
  }
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// v as a T when it is a whole number T holds, else null_value (NaN fails the range test).
// Within T's range truncation is exact, so v is whole exactly when it survives the round trip
// (no std::floor, a library call per value without SSE4.1).
template <typename T>
T ClampToNull(double v, T null_value) {
  if (!(v >= std::numeric_limits<T>::min() && v <= std::numeric_limits<T>::max())) {
    return null_value;
  }
  const T t = static_cast<T>(v);
  return static_cast<double>(t) == v ? t : null_value;
}

// Copies a numeric column into dst[0, n): convert(value) for values, dst untouched at nulls.
// The switch on the physical type and the null check sit outside the per-row loops, which the
// compiler then vectorises (this loop runs for every cell of every trip file).
template <typename T, typename Convert>
void CopyNumbers(const pq::Column& c, int64_t n, T* dst, Convert convert) {
  auto run = [&](const auto* src) {
    if (c.validity.empty()) {
      for (int64_t i = 0; i < n; ++i) dst[i] = convert(src[i]);
    } else {
      // A select rather than a conditional store, which the compiler can vectorise.
      const uint8_t* valid = c.validity.data();
      for (int64_t i = 0; i < n; ++i) dst[i] = valid[i] ? convert(src[i]) : dst[i];
    }
  };
  switch (c.physical) {
    case pq::PhysicalType::kInt32: run(c.i32.data()); break;
    case pq::PhysicalType::kInt64:
    case pq::PhysicalType::kInt96: run(c.i64.data()); break;
    case pq::PhysicalType::kFloat: run(c.f32.data()); break;
    case pq::PhysicalType::kDouble: run(c.f64.data()); break;
    case pq::PhysicalType::kBoolean: run(c.boolean.data()); break;
    default: break;  // checked by the caller: only numeric columns come here
  }
}

// An integer id/count from any numeric physical type; `null_value` when it does not fit or is
// not a whole number.
template <typename T>
struct ToInteger {
  T null_value;
  template <typename V>
  T operator()(V v) const {
    if constexpr (std::is_integral_v<V>) {
      return v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()
                 ? null_value
                 : static_cast<T>(v);
    } else {
      return ClampToNull<T>(static_cast<double>(v), null_value);
    }
  }
};

// A column the reader needs: where it is in the file and where it goes.
struct ColumnPlan {
  int index;  // schema index
  Target target;
  int64_t micros_divisor;  // times: MicrosDivisor of the column; else 0
};

// The layout's columns present in `schema`, checked for a type the reader can use. Absent
// optional columns are left out (they stay null). InvalidArgument naming `path` and the column.
StatusOr<std::vector<ColumnPlan>> PlanColumns(const std::string& path,
                                              const std::vector<pq::ColumnSchema>& schema,
                                              const Layout& layout) {
  std::vector<ColumnPlan> plan;
  for (const Binding& b : layout.bindings) {
    if (!(b.readers & layouts::kParquetReader)) continue;
    int c = FindColumn(schema, b.column);
    if (c < 0) continue;  // optional column absent: stays null
    const pq::ColumnSchema& s = schema[c];
    int64_t div = 0;
    if (b.target == Target::kPickupTime || b.target == Target::kDropoffTime) {
      div = MicrosDivisor(s);
      if (div == 0) {
        return InvalidArgumentError(path + ": column '" + s.name + "': " +
                                    std::string(pq::PhysicalTypeName(s.physical)) +
                                    " is not a timestamp with a known unit");
      }
    } else if (b.target == Target::kBase || b.target == Target::kSource) {
      if (s.physical != pq::PhysicalType::kByteArray) {
        return InvalidArgumentError(path + ": column '" + s.name + "': want a string");
      }
    } else if (!IsNumeric(s.physical)) {
      return InvalidArgumentError(path + ": column '" + s.name + "': " +
                                  std::string(pq::PhysicalTypeName(s.physical)) +
                                  " is not numeric");
    }
    plan.push_back({c, b.target, div});
  }
  return plan;
}

// Sizes every column of `t` to `rows` null values.
// Grows every column to `rows`, the new rows null.
void GrowWithNulls(size_t rows, TripTable* t) {
  t->pickup_time_us.resize(rows, kNullTime);
  t->dropoff_time_us.resize(rows, kNullTime);
  t->pickup_zone.resize(rows, kUnknownZone);
  t->dropoff_zone.resize(rows, kUnknownZone);
  t->pickup_lon.resize(rows, kNullCoord);
  t->pickup_lat.resize(rows, kNullCoord);
  t->dropoff_lon.resize(rows, kNullCoord);
  t->dropoff_lat.resize(rows, kNullCoord);
  t->distance_miles.resize(rows, kNullFloat);
  t->fare.resize(rows, kNullFloat);
  t->total.resize(rows, kNullFloat);
  t->surge.resize(rows, kNullFloat);
  t->passengers.resize(rows, -1);
  t->vendor.resize(rows, -1);
  t->rider_id.resize(rows, -1);
}

// Timestamps in the column's unit → microseconds, into dst[0, n) (untouched at nulls). One
// loop per unit, so microseconds (the TLC files' unit) are a plain copy and nanoseconds divide
// by a constant.
void CopyTimes(const pq::Column& c, int64_t n, int64_t div, int64_t* dst) {
  // Only INT64 and INT96 columns have a divisor (MicrosDivisor): the value is an int64.
  auto micros = [](auto v) { return static_cast<int64_t>(v); };
  if (div == 1) {
    CopyNumbers(c, n, dst, micros);
  } else if (div == 1000) {
    CopyNumbers(c, n, dst, [&](auto v) { return FloorDiv(micros(v), 1000); });
  } else if (div > 0) {
    CopyNumbers(c, n, dst, [&](auto v) { return FloorDiv(micros(v), div); });
  } else {
    CopyNumbers(c, n, dst, [&](auto v) { return micros(v) * -div; });
  }
}

void CopyRiderIds(const pq::Column& c, int64_t n, int64_t* dst) {
  for (int64_t i = 0; i < n; ++i) {
    if (c.IsNull(i)) continue;
    dst[i] =
        c.physical == pq::PhysicalType::kInt64 ? c.i64[i] : static_cast<int64_t>(NumberAt(c, i));
  }
}

// FHV dispatching bases "B02512" → 2512 into dst[0, n); values that do not fit stay null.
void CopyBaseNumbers(const pq::Column& c, int64_t n, int16_t* dst) {
  for (int64_t i = 0; i < n; ++i) {
    if (c.IsNull(i)) continue;
    std::string_view v = c.ByteValue(i);
    int value = 0, digits = 0;
    for (char ch : v) {
      if (ch >= '0' && ch <= '9' && value < 100000) {
        value = value * 10 + (ch - '0');
        ++digits;
      }
    }
    if (digits > 0 && value <= std::numeric_limits<int16_t>::max()) dst[i] = value;
  }
}

// The `source` column of the own layout: one source per table, the first non-null value
// decides (sets *source and *seen), any other is an InvalidArgument naming `path` and the row
// (`base` is the row group's first row).
Status ReadSourceColumn(const pq::Column& c, int64_t n, size_t base, const std::string& path,
                        TripSource* source, bool* seen) {
  for (int64_t i = 0; i < n; ++i) {
    if (c.IsNull(i)) continue;
    std::string_view v = c.ByteValue(i);
    if (*seen && v == TripSourceName(*source)) continue;
    TripSource found = TripSource::kUnknown;
    for (int k = 0; k <= static_cast<int>(TripSource::kSimulator); ++k) {
      if (TripSourceName(static_cast<TripSource>(k)) == v) found = static_cast<TripSource>(k);
    }
    if (*seen || (found == TripSource::kUnknown && v != "unknown")) {
      return InvalidArgumentError(path + ": column 'source': row " + std::to_string(base + i + 1) +
                                  ": '" + std::string(v) + "' is not the file's trip source");
    }
    *source = found;
    *seen = true;
  }
  return OkStatus();
}

// Fills rows [base, base + n) of `t` from one decoded column of a row group, per its plan.
// Only the `source` column can fail (see ReadSourceColumn).
Status CopyColumn(const pq::Column& c, const ColumnPlan& plan, int64_t n, size_t base,
                  const std::string& path, bool* source_seen, TripTable* t) {
  switch (plan.target) {
    case Target::kPickupTime:
      CopyTimes(c, n, plan.micros_divisor, t->pickup_time_us.data() + base);
      break;
    case Target::kDropoffTime:
      CopyTimes(c, n, plan.micros_divisor, t->dropoff_time_us.data() + base);
      break;
    case Target::kPickupZone:
      CopyNumbers(c, n, t->pickup_zone.data() + base, ToInteger<int32_t>{kUnknownZone});
      break;
    case Target::kDropoffZone:
      CopyNumbers(c, n, t->dropoff_zone.data() + base, ToInteger<int32_t>{kUnknownZone});
      break;
    case Target::kDistance:
    case Target::kFare:
    case Target::kTotal:
    case Target::kSurge: {
      std::vector<float>& dst = plan.target == Target::kDistance ? t->distance_miles
                                : plan.target == Target::kFare   ? t->fare
                                : plan.target == Target::kTotal  ? t->total
                                                                 : t->surge;
      CopyNumbers(c, n, dst.data() + base, [](auto v) { return static_cast<float>(v); });
      break;
    }
    case Target::kPassengers:
      CopyNumbers(c, n, t->passengers.data() + base, ToInteger<int16_t>{-1});
      break;
    case Target::kVendor:
      CopyNumbers(c, n, t->vendor.data() + base, ToInteger<int16_t>{-1});
      break;
    case Target::kPickupLon:
    case Target::kPickupLat:
    case Target::kDropoffLon:
    case Target::kDropoffLat: {
      std::vector<double>& dst = plan.target == Target::kPickupLon    ? t->pickup_lon
                                 : plan.target == Target::kPickupLat  ? t->pickup_lat
                                 : plan.target == Target::kDropoffLon ? t->dropoff_lon
                                                                      : t->dropoff_lat;
      CopyNumbers(c, n, dst.data() + base, [](auto v) { return static_cast<double>(v); });
      break;
    }
    case Target::kRiderId:
      CopyRiderIds(c, n, t->rider_id.data() + base);
      break;
    case Target::kSource:
      return ReadSourceColumn(c, n, base, path, &t->source, source_seen);
    case Target::kBase:
      CopyBaseNumbers(c, n, t->vendor.data() + base);
      break;
  }
  return OkStatus();
}

}  // namespace

namespace {

// Reads `path` into rows [t->size(), t->size() + file rows) of `t`; on error `t` may hold a
// partly filled tail (the caller trims it).
// The TripTable column a layout column fills ("" for the source, which is always read).
std::string_view TableColumnOf(Target target) {
  switch (target) {
    case Target::kPickupTime: return "pickup_time_us";
    case Target::kDropoffTime: return "dropoff_time_us";
    case Target::kPickupZone: return "pickup_zone";
    case Target::kDropoffZone: return "dropoff_zone";
    case Target::kPickupLon: return "pickup_lon";
    case Target::kPickupLat: return "pickup_lat";
    case Target::kDropoffLon: return "dropoff_lon";
    case Target::kDropoffLat: return "dropoff_lat";
    case Target::kDistance: return "distance_miles";
    case Target::kFare: return "fare";
    case Target::kTotal: return "total";
    case Target::kSurge: return "surge";
    case Target::kPassengers: return "passengers";
    case Target::kVendor:
    case Target::kBase: return "vendor";
    case Target::kRiderId: return "rider_id";
    case Target::kSource: return "";
  }
  return "";
}

Status ReadTripsParquetAt(const std::string& path, const TripLayoutFile* given,
                          const std::vector<std::string>* only, pq::FileReader* reader,
                          TripTable* into, ParquetTripsRead* info) {
  const std::vector<pq::ColumnSchema>& schema = reader->schema();
  const Layout* layout =
      given ? &given->layout
            : layouts::MatchLayout(layouts::kParquetReader, [&](std::string_view column) {
                return FindColumn(schema, column) >= 0;
              });
  if (given) {
    for (const Binding& b : layout->bindings) {
      if (FindColumn(schema, b.column) < 0) {
        return InvalidArgumentError(path + ": no column '" + b.column + "' that layout file " +
                                    given->path + " maps");
      }
      if (b.time_format) {
        return InvalidArgumentError(path + ": column '" + b.column + "': layout file " +
                                    given->path +
                                    " gives a time format, but Parquet times are "
                                    "timestamps (drop \"format\")");
      }
    }
  }
  if (layout == nullptr) {
    std::string cols;
    for (size_t i = 0; i < schema.size() && i < 8; ++i) cols += (i ? "," : "") + schema[i].name;
    return InvalidArgumentError(path + ": " + kUnknownParquetTripLayout + " (columns '" + cols +
                                "…' are none of TLC green/yellow/FHV/HVFHV, bimride; describe them "
                                "in a layout file: --layout)");
  }
  ASSIGN_OR_RETURN(std::vector<ColumnPlan> plan, PlanColumns(path, schema, *layout));
  if (only != nullptr) {  // decode only the asked columns (and the source)
    std::erase_if(plan, [&](const ColumnPlan& p) {
      const std::string_view c = TableColumnOf(p.target);
      return !c.empty() && std::find(only->begin(), only->end(), c) == only->end();
    });
  }
  std::vector<int> columns;
  for (const ColumnPlan& p : plan) columns.push_back(p.index);

  info->layout = layout->name;
  info->row_groups = reader->num_row_groups();
  TripTable& t = *into;
  t.source = layout->source;
  const size_t first = t.size();
  const size_t total = static_cast<size_t>(reader->num_rows());
  GrowWithNulls(first + total, &t);

  // Reused by every file this thread reads: a fresh batch per file would fault in (and zero)
  // its pages again, which costs more than decoding them.
  thread_local pq::RowGroupBatch batch;
  size_t base = first;
  bool source_seen = false;
  for (int rg = 0; rg < reader->num_row_groups(); ++rg) {
    RETURN_IF_ERROR(reader->ReadRowGroup(rg, columns, &batch));
    const int64_t n = batch.num_rows;
    if (base - first + static_cast<size_t>(n) > total) {
      return DataLossError(path + ": row group " + std::to_string(rg) +
                           " holds more rows than the footer's total " + std::to_string(total));
    }
    for (size_t k = 0; k < plan.size(); ++k) {
      RETURN_IF_ERROR(CopyColumn(batch.columns[k], plan[k], n, base, path, &source_seen, &t));
    }
    base += static_cast<size_t>(n);
  }
  if (base - first != total) {
    return DataLossError(path + ": row groups hold " + std::to_string(base - first) +
                         " rows but the footer says " + std::to_string(total));
  }
  for (const Binding& b : layout->bindings) {  // units of a layout file (km → miles, …)
    if (b.scale == 1) continue;
    if (b.target == Target::kDistance) {
      for (size_t i = first; i < t.size(); ++i) {
        t.distance_miles[i] = static_cast<float>(t.distance_miles[i] * b.scale);
      }
    }
    std::vector<double>* coords = b.target == Target::kPickupLon    ? &t.pickup_lon
                                  : b.target == Target::kPickupLat  ? &t.pickup_lat
                                  : b.target == Target::kDropoffLon ? &t.dropoff_lon
                                  : b.target == Target::kDropoffLat ? &t.dropoff_lat
                                                                    : nullptr;
    if (coords) {
      for (size_t i = first; i < coords->size(); ++i) (*coords)[i] *= b.scale;
    }
  }
  return OkStatus();
}

}  // namespace

StatusOr<ParquetTripsRead> AppendTripsParquet(const std::string& path, TripTable* into,
                                              const TripLayoutFile* layout,
                                              const std::vector<std::string>* columns) {
  if (columns != nullptr) RETURN_IF_ERROR(CheckTripColumnNames(*columns));
  ASSIGN_OR_RETURN(std::unique_ptr<pq::FileReader> reader, pq::FileReader::Open(path));
  const size_t first = into->size();
  const TripSource prior = into->source;
  ParquetTripsRead info;
  Status s = ReadTripsParquetAt(path, layout, columns, reader.get(), into, &info);
  if (s.ok() && first > 0 && into->source != prior) {
    s = InvalidArgumentError(path + ": cannot append " +
                             std::string(TripSourceName(into->source)) + " trips to a " +
                             std::string(TripSourceName(prior)) + " table");
  }
  if (!s.ok()) {  // the table is as it was
    into->Truncate(first);
    into->source = prior;
    return s;
  }
  return info;
}

StatusOr<ParquetTrips> ReadTripsParquet(const std::string& path, const TripLayoutFile* layout) {
  ParquetTrips out;
  ASSIGN_OR_RETURN(ParquetTripsRead info, AppendTripsParquet(path, &out.trips, layout));
  out.layout = std::move(info.layout);
  out.row_groups = info.row_groups;
  return out;
}

StatusOr<size_t> CountParquetRows(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<pq::FileReader> reader, pq::FileReader::Open(path));
  return static_cast<size_t>(reader->num_rows());
}

namespace {

pq::ColumnSchema Field(const char* name, pq::PhysicalType physical,
                       pq::LogicalKind logical = pq::LogicalKind::kNone) {
  pq::ColumnSchema s;
  s.name = name;
  s.physical = physical;
  s.logical = logical;
  s.optional = true;
  if (logical == pq::LogicalKind::kTimestamp) {
    s.time_unit = pq::TimeUnit::kMicros;
    s.utc_adjusted = false;  // naive local wall-clock time
  }
  return s;
}

std::vector<pq::ColumnSchema> TripSchema() {
  using P = pq::PhysicalType;
  using L = pq::LogicalKind;
  return {Field("source", P::kByteArray, L::kString),
          Field("pickup_time", P::kInt64, L::kTimestamp),
          Field("dropoff_time", P::kInt64, L::kTimestamp),
          Field("pickup_zone", P::kInt32),
          Field("dropoff_zone", P::kInt32),
          Field("pickup_lon", P::kDouble),
          Field("pickup_lat", P::kDouble),
          Field("dropoff_lon", P::kDouble),
          Field("dropoff_lat", P::kDouble),
          Field("distance_miles", P::kFloat),
          Field("fare", P::kFloat),
          Field("total", P::kFloat),
          Field("surge", P::kFloat),
          Field("passengers", P::kInt32),
          Field("vendor", P::kInt32),
          Field("rider_id", P::kInt64)};
}

// A column of `n` rows whose row i is null when null(i), else value(i); `pad` leading rows
// are null (the quarantine's malformed records).
template <typename Vec, typename Src, typename IsNull>
pq::Column MakeColumn(pq::PhysicalType physical, Vec pq::Column::*values, size_t pad,
                      const Src& src, IsNull is_null) {
  pq::Column c;
  c.physical = physical;
  c.num_rows = static_cast<int64_t>(pad + src.size());
  Vec& v = c.*values;
  v.resize(pad + src.size());
  c.validity.assign(pad + src.size(), 1);
  for (size_t i = 0; i < pad; ++i) c.validity[i] = 0;
  for (size_t i = 0; i < src.size(); ++i) {
    if (is_null(src[i])) {
      c.validity[pad + i] = 0;
    } else {
      v[pad + i] = static_cast<typename Vec::value_type>(src[i]);
    }
  }
  c.null_count = std::count(c.validity.begin(), c.validity.end(), 0);
  if (c.null_count == 0) c.validity.clear();
  return c;
}

pq::Column StringColumn(const std::vector<std::string_view>& values,
                        const std::vector<bool>& null) {
  pq::Column c;
  c.physical = pq::PhysicalType::kByteArray;
  c.num_rows = static_cast<int64_t>(values.size());
  c.offsets.reserve(values.size() + 1);
  c.offsets.push_back(0);
  c.validity.assign(values.size(), 1);
  for (size_t i = 0; i < values.size(); ++i) {
    if (null[i]) {
      c.validity[i] = 0;
    } else {
      c.bytes.append(values[i]);
    }
    c.offsets.push_back(static_cast<int64_t>(c.bytes.size()));
  }
  c.null_count = std::count(c.validity.begin(), c.validity.end(), 0);
  if (c.null_count == 0) c.validity.clear();
  return c;
}

// The trip columns of `t`, after `pad` all-null rows.
std::vector<pq::Column> TripColumns(const TripTable& t, size_t pad) {
  using P = pq::PhysicalType;
  auto nan = [](auto v) { return std::isnan(v); };
  auto no_time = [](int64_t v) { return v == kNullTime; };
  auto no_zone = [](int32_t v) { return v == kUnknownZone; };
  auto negative = [](auto v) { return v < 0; };
  std::vector<std::string_view> source(pad + t.size(), TripSourceName(t.source));
  std::vector<bool> source_null(pad + t.size(), false);
  for (size_t i = 0; i < pad; ++i) source_null[i] = true;
  std::vector<pq::Column> cols;
  cols.push_back(StringColumn(source, source_null));
  cols.push_back(MakeColumn(P::kInt64, &pq::Column::i64, pad, t.pickup_time_us, no_time));
  cols.push_back(MakeColumn(P::kInt64, &pq::Column::i64, pad, t.dropoff_time_us, no_time));
  cols.push_back(MakeColumn(P::kInt32, &pq::Column::i32, pad, t.pickup_zone, no_zone));
  cols.push_back(MakeColumn(P::kInt32, &pq::Column::i32, pad, t.dropoff_zone, no_zone));
  cols.push_back(MakeColumn(P::kDouble, &pq::Column::f64, pad, t.pickup_lon, nan));
  cols.push_back(MakeColumn(P::kDouble, &pq::Column::f64, pad, t.pickup_lat, nan));
  cols.push_back(MakeColumn(P::kDouble, &pq::Column::f64, pad, t.dropoff_lon, nan));
  cols.push_back(MakeColumn(P::kDouble, &pq::Column::f64, pad, t.dropoff_lat, nan));
  cols.push_back(MakeColumn(P::kFloat, &pq::Column::f32, pad, t.distance_miles, nan));
  cols.push_back(MakeColumn(P::kFloat, &pq::Column::f32, pad, t.fare, nan));
  cols.push_back(MakeColumn(P::kFloat, &pq::Column::f32, pad, t.total, nan));
  cols.push_back(MakeColumn(P::kFloat, &pq::Column::f32, pad, t.surge, nan));
  cols.push_back(MakeColumn(P::kInt32, &pq::Column::i32, pad, t.passengers, negative));
  cols.push_back(MakeColumn(P::kInt32, &pq::Column::i32, pad, t.vendor, negative));
  cols.push_back(MakeColumn(P::kInt64, &pq::Column::i64, pad, t.rider_id, negative));
  return cols;
}

Status WriteColumns(const std::string& path, std::vector<pq::ColumnSchema> schema,
                    const std::vector<pq::Column>& columns) {
  ASSIGN_OR_RETURN(std::unique_ptr<pq::FileWriter> w, pq::FileWriter::Open(path, std::move(schema)));
  if (!columns.empty() && columns[0].num_rows > 0) RETURN_IF_ERROR(w->Write(columns));
  return w->Close();
}

}  // namespace

Status WriteTripsParquet(const TripTable& trips, const std::string& path) {
  RETURN_IF_ERROR(trips.CheckConsistent());
  return WriteColumns(path, TripSchema(), TripColumns(trips, 0));
}

Status WriteQuarantineParquet(const Quarantine& q, const std::string& path) {
  RETURN_IF_ERROR(q.trips.CheckConsistent());
  const size_t pad = q.malformed.size(), n = pad + q.trips.size();
  std::vector<std::string> origin_text(pad);
  std::vector<std::string_view> rule(n), origin(n), problem(n), raw(n);
  std::vector<bool> no(n, false), problem_null(n, true);
  for (size_t i = 0; i < pad; ++i) {
    const RejectedRecord& r = q.malformed[i];
    size_t slash = r.file.find_last_of('/');
    origin_text[i] = (slash == std::string::npos ? r.file : r.file.substr(slash + 1)) +
                     " line " + std::to_string(r.line);
    rule[i] = TripRuleName(TripRule::kMalformedRecord);
    origin[i] = origin_text[i];
    problem[i] = r.problem;
    raw[i] = r.raw;
    problem_null[i] = false;
  }
  for (size_t i = 0; i < q.trips.size(); ++i) {
    rule[pad + i] = TripRuleName(q.rules[i]);
    origin[pad + i] = q.origins[i];
  }
  std::vector<pq::ColumnSchema> schema = {
      Field("rule", pq::PhysicalType::kByteArray, pq::LogicalKind::kString),
      Field("origin", pq::PhysicalType::kByteArray, pq::LogicalKind::kString),
      Field("problem", pq::PhysicalType::kByteArray, pq::LogicalKind::kString),
      Field("raw", pq::PhysicalType::kByteArray, pq::LogicalKind::kString)};
  std::vector<pq::Column> columns = {StringColumn(rule, no), StringColumn(origin, no),
                                     StringColumn(problem, problem_null),
                                     StringColumn(raw, problem_null)};
  for (pq::ColumnSchema& s : TripSchema()) schema.push_back(std::move(s));
  for (pq::Column& c : TripColumns(q.trips, pad)) columns.push_back(std::move(c));
  return WriteColumns(path, std::move(schema), columns);
}

StatusOr<std::string> DescribeParquetFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<pq::FileReader> reader, pq::FileReader::Open(path));
  const auto& schema = reader->schema();
  std::string out;
  char line[512];
  std::snprintf(line, sizeof(line), "  format: Parquet, %lld rows, %d row groups, %d columns%s%s\n",
                static_cast<long long>(reader->num_rows()), reader->num_row_groups(),
                reader->num_columns(), reader->created_by().empty() ? "" : ", created by ",
                reader->created_by().c_str());
  out += line;
  if (reader->num_row_groups() > 0) {
    out += "  codec: " + std::string(pq::CodecName(reader->codec(0, 0))) + "\n";
  }
  out += "  column                    type                             nulls    min .. max\n";
  for (int c = 0; c < reader->num_columns(); ++c) {
    const pq::ColumnSchema& s = schema[c];
    std::string type(pq::PhysicalTypeName(s.physical));
    if (s.logical == pq::LogicalKind::kTimestamp) {
      type += s.time_unit == pq::TimeUnit::kNanos    ? " timestamp[ns]"
              : s.time_unit == pq::TimeUnit::kMillis ? " timestamp[ms]"
                                                     : " timestamp[us]";
    } else if (s.logical == pq::LogicalKind::kString) {
      type += " string";
    }
    if (s.optional) type += " optional";
    int64_t nulls = 0;
    bool any = false;
    double lo = 0, hi = 0;
    std::string slo, shi;
    for (int rg = 0; rg < reader->num_row_groups(); ++rg) {
      ASSIGN_OR_RETURN(pq::RowGroupBatch b, reader->ReadRowGroup(rg, {c}));
      const pq::Column& col = b.columns[0];
      nulls += col.null_count;
      for (int64_t i = 0; i < b.num_rows; ++i) {
        if (col.IsNull(i)) continue;
        if (s.physical == pq::PhysicalType::kByteArray ||
            s.physical == pq::PhysicalType::kFixedLenByteArray) {
          std::string_view v = col.ByteValue(i);
          if (!any || v < slo) slo = std::string(v);
          if (!any || v > shi) shi = std::string(v);
        } else {
          double v = NumberAt(col, i);
          if (!any || v < lo) lo = v;
          if (!any || v > hi) hi = v;
        }
        any = true;
      }
    }
    std::string range = "(all null)";
    if (any) {
      int64_t div = MicrosDivisor(s);
      if (div != 0) {
        auto micros = [&](double v) {
          int64_t raw = static_cast<int64_t>(v);
          return div > 0 ? FloorDiv(raw, div) : raw * -div;
        };
        range = FormatCivil(micros(lo)) + " .. " + FormatCivil(micros(hi));
      } else if (!slo.empty() || !shi.empty() || s.physical == pq::PhysicalType::kByteArray) {
        range = "'" + slo + "' .. '" + shi + "'";
      } else {
        char buf[96];
        std::snprintf(buf, sizeof(buf), "%.10g .. %.10g", lo, hi);
        range = buf;
      }
    }
    std::snprintf(line, sizeof(line), "  %-25s %-32s %-8lld %s\n", s.name.c_str(), type.c_str(),
                  static_cast<long long>(nulls), range.c_str());
    out += line;
  }
  return out;
}

}  // namespace bimride::data
