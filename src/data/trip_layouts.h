// The source layouts of trip files (internal to data/ and the simulator's writer): which columns
// tell a layout apart, and which source column goes to which TripTable column. One table serves
// both trip readers (trip_csv.cc, trip_parquet.cc); where the two readers differ (old CSVs with
// coordinates, stricter CSV signatures), the entry says which reader it applies to.
// Constant data; thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "data/trip_table.h"

namespace bimride::data::layouts {

enum class TripColumn : uint8_t {
  kPickupTime,
  kDropoffTime,
  kPickupZone,
  kDropoffZone,
  kPickupLon,
  kPickupLat,
  kDropoffLon,
  kDropoffLat,
  kDistance,
  kFare,
  kTotal,
  kSurge,
  kPassengers,
  kVendor,
  kBase,  // FHV dispatching base "B02512" → vendor 2512
  kRiderId,
  kSource,
};

// The readers an entry applies to (a bit set).
enum Readers : uint8_t {
  kCsvReader = 1,
  kParquetReader = 2,
  kBothReaders = kCsvReader | kParquetReader,
};

// A column that must be present to recognise a layout (matched case-insensitively).
struct SignatureColumn {
  constexpr SignatureColumn(const char* c, uint8_t r = kBothReaders) : column(c), readers(r) {}
  const char* column;
  uint8_t readers;
};

// A source column (matched case-insensitively), where it goes, and the readers that read it.
// Readers report a bad value under `column` as spelled here.
struct ColumnBinding {
  const char* column;
  TripColumn target;
  uint8_t readers = kBothReaders;
  // Layout files (trip_layout_file.h) only: a time format (nullptr: the built-in forms), and the
  // factor from the column's unit to TripTable's (km → miles, microdegrees → degrees).
  const char* time_format = nullptr;
  double scale = 1;
};

struct SourceLayout {
  const char* name;   // "tlc_green": CsvLayoutName() and ParquetTrips::layout
  TripSource source;  // kUnknown: the file's `source` column says (own layout)
  uint8_t readers;    // the readers that recognise the layout
  std::vector<SignatureColumn> signature;
  std::vector<ColumnBinding> bindings;  // in the order readers check them (first error wins)
  // The layouts this project writes: every column in the order the writer puts them. Empty for
  // public sources.
  std::vector<const char*> written_columns;
};

// Every layout, in the order they are tried (the first whose signature is present wins).
const std::vector<SourceLayout>& SourceLayouts();

// This project's layout (TripsCsvHeader / WriteTripsParquet).
const SourceLayout& BimrideLayout();
// `bimride simulate` trips (simulator/city_files.h), CSV or Parquet.
const SourceLayout& SimulatorLayout();

// A CSV header line of the layout's written columns: "source,pickup_time,…" (no line end).
std::string WrittenHeader(const SourceLayout& layout);

// The first layout `reader` knows whose signature columns (for that reader) all satisfy
// `has_column`; nullptr when none does.
const SourceLayout* MatchLayout(Readers reader,
                                const std::function<bool(std::string_view)>& has_column);

}  // namespace bimride::data::layouts
