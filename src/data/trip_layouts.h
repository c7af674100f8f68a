// What the trip readers share (internal to data/): the TripTable column a source column maps to,
// and the column bindings of the layouts this project writes itself — `bimride data convert`'s
// own layout and the simulator's trips — which read the same from CSV and from Parquet.
// Constant data; thread-safe.
#pragma once

#include <cstdint>
#include <vector>

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

// A source column (matched case-insensitively) and where it goes.
struct ColumnBinding {
  const char* column;
  TripColumn target;
};

// Columns that must all be present to recognise a layout, and the columns read when present.
struct OwnLayout {
  std::vector<const char*> signature;
  std::vector<ColumnBinding> bindings;
};

// This project's layout (TripsCsvHeader / WriteTripsParquet).
const OwnLayout& BimrideLayout();
// `bimride simulate` trips (simulator/city_files.h), CSV or Parquet.
const OwnLayout& SimulatorLayout();

}  // namespace bimride::data::layouts
