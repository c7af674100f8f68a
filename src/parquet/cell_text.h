// Canonical text of one decoded cell, for dumps and cross-checks against other readers.
//
//   null                -> "null"
//   BOOLEAN             -> "true" / "false"
//   INT32 / INT64       -> decimal (unsigned INTEGER annotations print unsigned); timestamps and
//                          dates print their raw count (units of the column, days); INT96 prints
//                          nanoseconds since the epoch
//   FLOAT / DOUBLE      -> the shortest text that round-trips the double value, in JavaScript's
//                          Number.prototype.toString layout ("0.1", "1e+21", "5e-324",
//                          "-0", "NaN", "Infinity"); FLOAT is widened to double first
//   BYTE_ARRAY / FLBA   -> lowercase hex of the bytes
// Thread safety: free functions.
#pragma once

#include <cstdint>
#include <string>

#include "parquet/types.h"

namespace bimride::parquet {

std::string CellText(const ColumnSchema& schema, const Column& column, int64_t row);
// JavaScript-style shortest round-trip text of a double (see above).
std::string DoubleText(double value);

}  // namespace bimride::parquet
