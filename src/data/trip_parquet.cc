#include "data/trip_parquet.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>

#include "common/civil_time.h"
#include "parquet/file_reader.h"

namespace bimride::data {
namespace {

namespace pq = ::bimride::parquet;

enum class Target {
  kPickupTime,
  kDropoffTime,
  kPickupZone,
  kDropoffZone,
  kDistance,
  kFare,
  kTotal,
  kPassengers,
  kVendor,
  kBase,
};

struct Binding {
  const char* column;
  Target target;
};

struct ParquetLayout {
  const char* name;
  TripSource source;
  std::vector<const char*> signature;
  std::vector<Binding> bindings;
};

const std::vector<ParquetLayout>& Layouts() {
  static const std::vector<ParquetLayout> kLayouts = {
      {"tlc_green",
       TripSource::kTlcGreen,
       {"lpep_pickup_datetime", "lpep_dropoff_datetime"},
       {{"lpep_pickup_datetime", Target::kPickupTime},
        {"lpep_dropoff_datetime", Target::kDropoffTime},
        {"PULocationID", Target::kPickupZone},
        {"DOLocationID", Target::kDropoffZone},
        {"trip_distance", Target::kDistance},
        {"fare_amount", Target::kFare},
        {"total_amount", Target::kTotal},
        {"passenger_count", Target::kPassengers},
        {"VendorID", Target::kVendor}}},
      {"tlc_yellow",
       TripSource::kTlcYellow,
       {"tpep_pickup_datetime", "tpep_dropoff_datetime"},
       {{"tpep_pickup_datetime", Target::kPickupTime},
        {"tpep_dropoff_datetime", Target::kDropoffTime},
        {"PULocationID", Target::kPickupZone},
        {"DOLocationID", Target::kDropoffZone},
        {"trip_distance", Target::kDistance},
        {"fare_amount", Target::kFare},
        {"total_amount", Target::kTotal},
        {"passenger_count", Target::kPassengers},
        {"VendorID", Target::kVendor}}},
      {"tlc_fhvhv",
       TripSource::kTlcFhv,
       {"hvfhs_license_num", "pickup_datetime", "dropoff_datetime"},
       {{"pickup_datetime", Target::kPickupTime},
        {"dropoff_datetime", Target::kDropoffTime},
        {"PULocationID", Target::kPickupZone},
        {"DOLocationID", Target::kDropoffZone},
        {"trip_miles", Target::kDistance},
        {"base_passenger_fare", Target::kFare},
        {"dispatching_base_num", Target::kBase}}},
      {"tlc_fhv",
       TripSource::kTlcFhv,
       {"dispatching_base_num", "pickup_datetime", "dropOff_datetime"},
       {{"pickup_datetime", Target::kPickupTime},
        {"dropOff_datetime", Target::kDropoffTime},
        {"PUlocationID", Target::kPickupZone},
        {"DOlocationID", Target::kDropoffZone},
        {"dispatching_base_num", Target::kBase}}},
  };
  return kLayouts;
}

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

template <typename T>
T ClampToNull(double v, T null_value) {
  if (std::isnan(v) || v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max() ||
      v != std::floor(v)) {
    return null_value;
  }
  return static_cast<T>(v);
}

}  // namespace

StatusOr<ParquetTrips> ReadTripsParquet(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<pq::FileReader> reader, pq::FileReader::Open(path));
  const std::vector<pq::ColumnSchema>& schema = reader->schema();
  const ParquetLayout* layout = nullptr;
  for (const ParquetLayout& l : Layouts()) {
    bool all = true;
    for (const char* c : l.signature) all = all && FindColumn(schema, c) >= 0;
    if (all) {
      layout = &l;
      break;
    }
  }
  if (layout == nullptr) {
    std::string cols;
    for (size_t i = 0; i < schema.size() && i < 8; ++i) cols += (i ? "," : "") + schema[i].name;
    return InvalidArgumentError(path + ": unknown Parquet trip layout (columns '" + cols +
                                "…' are none of TLC green/yellow/FHV/HVFHV)");
  }
  // Needed columns and their checks.
  std::vector<int> columns;
  std::vector<const Binding*> bindings;
  std::vector<int64_t> divisors;
  for (const Binding& b : layout->bindings) {
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
    } else if (b.target == Target::kBase) {
      if (s.physical != pq::PhysicalType::kByteArray) {
        return InvalidArgumentError(path + ": column '" + s.name + "': want a string");
      }
    } else if (!IsNumeric(s.physical)) {
      return InvalidArgumentError(path + ": column '" + s.name + "': " +
                                  std::string(pq::PhysicalTypeName(s.physical)) +
                                  " is not numeric");
    }
    columns.push_back(c);
    bindings.push_back(&b);
    divisors.push_back(div);
  }

  ParquetTrips out;
  out.layout = layout->name;
  out.row_groups = reader->num_row_groups();
  TripTable& t = out.trips;
  t.source = layout->source;
  const size_t total = static_cast<size_t>(reader->num_rows());
  t.pickup_time_us.assign(total, kNullTime);
  t.dropoff_time_us.assign(total, kNullTime);
  t.pickup_zone.assign(total, kUnknownZone);
  t.dropoff_zone.assign(total, kUnknownZone);
  t.pickup_lon.assign(total, kNullCoord);
  t.pickup_lat.assign(total, kNullCoord);
  t.dropoff_lon.assign(total, kNullCoord);
  t.dropoff_lat.assign(total, kNullCoord);
  t.distance_miles.assign(total, kNullFloat);
  t.fare.assign(total, kNullFloat);
  t.total.assign(total, kNullFloat);
  t.surge.assign(total, kNullFloat);
  t.passengers.assign(total, -1);
  t.vendor.assign(total, -1);
  t.rider_id.assign(total, -1);

  pq::RowGroupBatch batch;
  size_t base = 0;
  for (int rg = 0; rg < reader->num_row_groups(); ++rg) {
    RETURN_IF_ERROR(reader->ReadRowGroup(rg, columns, &batch));
    const int64_t n = batch.num_rows;
    if (base + static_cast<size_t>(n) > total) {
      return DataLossError(path + ": row group " + std::to_string(rg) +
                           " holds more rows than the footer's total " + std::to_string(total));
    }
    for (size_t k = 0; k < columns.size(); ++k) {
      const pq::Column& c = batch.columns[k];
      const Target target = bindings[k]->target;
      switch (target) {
        case Target::kPickupTime:
        case Target::kDropoffTime: {
          int64_t* dst = (target == Target::kPickupTime ? t.pickup_time_us : t.dropoff_time_us)
                             .data() + base;
          const int64_t div = divisors[k];
          for (int64_t i = 0; i < n; ++i) {
            if (c.IsNull(i)) continue;
            dst[i] = div > 0 ? FloorDiv(c.i64[i], div) : c.i64[i] * -div;
          }
          break;
        }
        case Target::kPickupZone:
        case Target::kDropoffZone: {
          int32_t* dst = (target == Target::kPickupZone ? t.pickup_zone : t.dropoff_zone).data() + base;
          for (int64_t i = 0; i < n; ++i) {
            if (!c.IsNull(i)) dst[i] = ClampToNull<int32_t>(NumberAt(c, i), kUnknownZone);
          }
          break;
        }
        case Target::kDistance:
        case Target::kFare:
        case Target::kTotal: {
          float* dst = (target == Target::kDistance ? t.distance_miles
                        : target == Target::kFare   ? t.fare
                                                    : t.total)
                           .data() + base;
          for (int64_t i = 0; i < n; ++i) {
            if (!c.IsNull(i)) dst[i] = static_cast<float>(NumberAt(c, i));
          }
          break;
        }
        case Target::kPassengers:
        case Target::kVendor: {
          int16_t* dst = (target == Target::kPassengers ? t.passengers : t.vendor).data() + base;
          for (int64_t i = 0; i < n; ++i) {
            if (!c.IsNull(i)) dst[i] = ClampToNull<int16_t>(NumberAt(c, i), -1);
          }
          break;
        }
        case Target::kBase: {
          int16_t* dst = t.vendor.data() + base;
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
          break;
        }
      }
    }
    base += static_cast<size_t>(n);
  }
  if (base != total) {
    return DataLossError(path + ": row groups hold " + std::to_string(base) +
                         " rows but the footer says " + std::to_string(total));
  }
  return out;
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
