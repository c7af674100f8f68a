#include "data/trip_layouts.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "data/trip_csv.h"

namespace bimride::data::layouts {
namespace {

// A has_column over a fixed list of names (exact match; the readers match case-insensitively).
auto Columns(std::vector<std::string> names) {
  return [names = std::move(names)](std::string_view c) {
    return std::find(names.begin(), names.end(), c) != names.end();
  };
}

TEST(TripLayoutsTest, OwnLayoutsWriteEveryColumnTheyAreReadAndRecognisedBy) {
  for (const SourceLayout* layout : {&BimrideLayout(), &SimulatorLayout()}) {
    std::set<std::string> written(layout->written_columns.begin(), layout->written_columns.end());
    EXPECT_EQ(written.size(), layout->written_columns.size()) << layout->name;
    for (const SignatureColumn& s : layout->signature) {
      EXPECT_TRUE(written.count(s.column)) << layout->name << ": " << s.column;
    }
    for (const ColumnBinding& b : layout->bindings) {
      EXPECT_TRUE(written.count(b.column)) << layout->name << ": " << b.column;
    }
  }
  EXPECT_STREQ(BimrideLayout().name, "bimride");
  EXPECT_STREQ(SimulatorLayout().name, "simulator");
  EXPECT_STREQ(SimulatorLayout().written_columns.front(), "trip_id");
}

TEST(TripLayoutsTest, EveryCsvLayoutHasACsvLayoutName) {
  for (const SourceLayout& layout : SourceLayouts()) {
    if (!(layout.readers & kCsvReader)) continue;
    std::vector<std::string_view> header;
    for (const SignatureColumn& s : layout.signature) header.push_back(s.column);
    EXPECT_EQ(CsvLayoutName(DetectCsvLayout(header)), layout.name);
  }
}

TEST(TripLayoutsTest, ReadersRecogniseLayoutsByTheirOwnSignatures) {
  // TLC FHV Parquet files are recognised without the zone columns; CSV files need them.
  auto fhv = Columns({"dispatching_base_num", "pickup_datetime", "dropoff_datetime"});
  const SourceLayout* parquet = MatchLayout(kParquetReader, fhv);
  ASSERT_NE(parquet, nullptr);
  EXPECT_STREQ(parquet->name, "tlc_fhv");
  EXPECT_EQ(MatchLayout(kCsvReader, fhv), nullptr);

  // Kaggle and Uber are CSV-only sources.
  auto uber = Columns({"Date/Time", "Lat", "Lon", "Base"});
  ASSERT_NE(MatchLayout(kCsvReader, uber), nullptr);
  EXPECT_STREQ(MatchLayout(kCsvReader, uber)->name, "uber_2014");
  EXPECT_EQ(MatchLayout(kParquetReader, uber), nullptr);

  // The own layouts come first: a simulator file also has TLC-like column names.
  std::vector<std::string> sim(SimulatorLayout().written_columns.begin(),
                               SimulatorLayout().written_columns.end());
  EXPECT_EQ(MatchLayout(kCsvReader, Columns(sim)), &SimulatorLayout());
  EXPECT_EQ(MatchLayout(kParquetReader, Columns(sim)), &SimulatorLayout());
}

TEST(TripLayoutsTest, OnlyTheCsvReaderReadsTlcTaxiCoordinates) {
  for (const SourceLayout& layout : SourceLayouts()) {
    if (std::string(layout.name) != "tlc_green" && std::string(layout.name) != "tlc_yellow") {
      continue;
    }
    int csv_only = 0;
    for (const ColumnBinding& b : layout.bindings) {
      const bool coordinate =
          b.target == TripColumn::kPickupLon || b.target == TripColumn::kPickupLat ||
          b.target == TripColumn::kDropoffLon || b.target == TripColumn::kDropoffLat;
      EXPECT_EQ(b.readers, coordinate ? kCsvReader : kBothReaders) << b.column;
      csv_only += b.readers == kCsvReader;
    }
    EXPECT_EQ(csv_only, 4) << layout.name;
  }
}

}  // namespace
}  // namespace bimride::data::layouts
