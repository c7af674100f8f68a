#include "parquet/cell_text.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace bimride::parquet {

std::string DoubleText(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  if (value == 0) return std::signbit(value) ? "-0" : "0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::scientific);
  std::string sci(buf, res.ptr);  // "-d.ddde+XX", shortest round-trip digits
  std::string sign;
  if (sci[0] == '-') {
    sign = "-";
    sci.erase(0, 1);
  }
  size_t e = sci.find('e');
  std::string digits = sci.substr(0, e);
  if (digits.size() > 1) digits.erase(1, 1);  // drop the '.'
  const int exp10 = std::atoi(sci.c_str() + e + 1);
  const int k = static_cast<int>(digits.size());
  const int n = exp10 + 1;  // the decimal point sits after n digits
  std::string out = sign;
  if (k <= n && n <= 21) {
    out += digits + std::string(n - k, '0');
  } else if (0 < n && n <= 21) {
    out += digits.substr(0, n) + "." + digits.substr(n);
  } else if (-6 < n && n <= 0) {
    out += "0." + std::string(-n, '0') + digits;
  } else {
    out += digits.substr(0, 1);
    if (k > 1) out += "." + digits.substr(1);
    out += (n - 1 >= 0 ? "e+" : "e-") + std::to_string(std::abs(n - 1));
  }
  return out;
}

std::string CellText(const ColumnSchema& schema, const Column& column, int64_t row) {
  if (column.IsNull(row)) return "null";
  const bool unsigned_int = schema.logical == LogicalKind::kInt && !schema.int_signed;
  switch (column.physical) {
    case PhysicalType::kBoolean:
      return column.boolean[row] ? "true" : "false";
    case PhysicalType::kInt32:
      if (unsigned_int) return std::to_string(static_cast<uint32_t>(column.i32[row]));
      return std::to_string(column.i32[row]);
    case PhysicalType::kInt64:
    case PhysicalType::kInt96:
      if (unsigned_int) return std::to_string(static_cast<uint64_t>(column.i64[row]));
      return std::to_string(column.i64[row]);
    case PhysicalType::kFloat:
      return DoubleText(static_cast<double>(column.f32[row]));
    case PhysicalType::kDouble:
      return DoubleText(column.f64[row]);
    case PhysicalType::kByteArray:
    case PhysicalType::kFixedLenByteArray: {
      static const char kHex[] = "0123456789abcdef";
      std::string_view v = column.ByteValue(row);
      std::string out;
      out.reserve(v.size() * 2);
      for (unsigned char ch : v) {
        out.push_back(kHex[ch >> 4]);
        out.push_back(kHex[ch & 15]);
      }
      return out;
    }
  }
  return "?";
}

}  // namespace bimride::parquet
