// Shared test data for the parquet tests: a schema covering every writable type, deterministic
// columns with nulls and odd values, and the writer configurations the round trips run.
#pragma once

#include <string>
#include <vector>

#include "parquet/file_writer.h"
#include "parquet/types.h"

namespace bimride::parquet {

std::vector<ColumnSchema> TestSchema();
std::vector<Column> TestColumns(int64_t rows, uint32_t seed);
// gtest assertions that `got` equals `want` row by row (floats bitwise).
void ExpectSameColumn(const Column& want, const Column& got, const std::string& name);

struct RoundTripCase {
  std::string label;
  WriterOptions options;
};

// Every codec x page version x {dictionary, plain, delta/byte-stream-split overrides}.
std::vector<RoundTripCase> RoundTripCases();

}  // namespace bimride::parquet
