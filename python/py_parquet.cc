// bimride.read_parquet / write_parquet: any flat Parquet file ⇄ {name: NumPy array}
// (parquet/). Fixed-width columns of one row group move into their arrays without a copy.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <limits>
#include <optional>

#include "parquet/file_reader.h"
#include "parquet/file_writer.h"
#include "py_arrays.h"
#include "py_module.h"
#include "py_status.h"

namespace bimride::python {
namespace {

using parquet::Column;
using parquet::ColumnSchema;
using parquet::LogicalKind;
using parquet::PhysicalType;
using parquet::TimeUnit;

const char* UnitSuffix(TimeUnit unit) {
  switch (unit) {
    case TimeUnit::kMillis: return "ms";
    case TimeUnit::kNanos: return "ns";
    default: return "us";
  }
}

// Null slots hold 0 (Column's contract); give them the dtype's missing value.
template <typename T>
void FillNulls(const Column& c, std::vector<T>* v, T missing) {
  if (c.null_count == 0) return;
  for (int64_t i = 0; i < c.num_rows; ++i) {
    if (c.IsNull(i)) (*v)[i] = missing;
  }
}

py::array ObjectArray(const py::list& values) {
  py::array out(py::dtype("O"), {static_cast<py::ssize_t>(values.size())}, {});
  // Assigning through a slice keeps each value as is (numpy.array(list) would nest sequences).
  out.attr("__setitem__")(py::slice(0, static_cast<py::ssize_t>(values.size()), 1), values);
  return out;
}

// Integers as they are (unsigned ones as NumPy's unsigned type of the same width); with nulls
// float64 with NaN for them (as pandas reads them).
template <typename T>
py::array IntegerArray(const ColumnSchema& s, const Column& c, std::vector<T>&& values) {
  using U = std::make_unsigned_t<T>;
  const bool is_unsigned = s.logical == LogicalKind::kInt && !s.int_signed;
  if (c.null_count == 0) {
    return is_unsigned ? OwnedArray(std::move(values), py::dtype::of<U>())
                       : OwnedArray(std::move(values));
  }
  std::vector<double> d(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    d[i] = is_unsigned ? static_cast<double>(static_cast<U>(values[i])) : static_cast<double>(values[i]);
  }
  FillNulls(c, &d, std::numeric_limits<double>::quiet_NaN());
  return OwnedArray(std::move(d));
}

// One decoded column as an array: floats NaN, times NaT for nulls; integers with nulls become
// float64 with NaN (as pandas does); strings and booleans with nulls an object array with None.
py::array ToArray(const ColumnSchema& s, Column c) {
  const bool nulls = c.null_count > 0;
  switch (c.physical) {
    case PhysicalType::kBoolean: {
      if (!nulls) return OwnedArray(std::move(c.boolean), py::dtype("bool"));
      py::list out(c.num_rows);
      for (int64_t i = 0; i < c.num_rows; ++i) {
        out[i] = c.IsNull(i) ? py::object(py::none()) : py::object(py::bool_(c.boolean[i] != 0));
      }
      return ObjectArray(out);
    }
    case PhysicalType::kInt32:
      if (s.logical == LogicalKind::kDate) {  // days since 1970-01-01; NaT for nulls
        std::vector<int64_t> days(c.i32.begin(), c.i32.end());
        FillNulls(c, &days, std::numeric_limits<int64_t>::min());
        return OwnedArray(std::move(days), py::dtype("datetime64[D]"));
      }
      return IntegerArray(s, c, std::move(c.i32));
    case PhysicalType::kInt64:
    case PhysicalType::kInt96: {
      const bool time = c.physical == PhysicalType::kInt96 || s.logical == LogicalKind::kTimestamp;
      if (time) {
        FillNulls(c, &c.i64, std::numeric_limits<int64_t>::min());  // NaT
        const char* unit = c.physical == PhysicalType::kInt96 ? "ns" : UnitSuffix(s.time_unit);
        return OwnedArray(std::move(c.i64), py::dtype(std::string("datetime64[") + unit + "]"));
      }
      return IntegerArray(s, c, std::move(c.i64));
    }
    case PhysicalType::kFloat:
      FillNulls(c, &c.f32, std::numeric_limits<float>::quiet_NaN());
      return OwnedArray(std::move(c.f32));
    case PhysicalType::kDouble:
      FillNulls(c, &c.f64, std::numeric_limits<double>::quiet_NaN());
      return OwnedArray(std::move(c.f64));
    case PhysicalType::kByteArray:
    case PhysicalType::kFixedLenByteArray: {
      const bool text = s.logical == LogicalKind::kString;
      py::list out(c.num_rows);
      for (int64_t i = 0; i < c.num_rows; ++i) {
        if (c.IsNull(i)) {
          out[i] = py::none();
          continue;
        }
        std::string_view v = c.ByteValue(i);
        out[i] = text ? py::object(py::str(v.data(), v.size()))
                      : py::object(py::bytes(v.data(), v.size()));
      }
      return ObjectArray(out);
    }
  }
  return py::array();
}

py::dict ReadParquet(const std::string& path,
                     const std::optional<std::vector<std::string>>& names) {
  auto reader = Unwrap(parquet::FileReader::Open(path));
  std::vector<int> indices;
  if (names) {
    for (const std::string& n : *names) indices.push_back(Unwrap(reader->ColumnIndex(n)));
  } else {
    for (int c = 0; c < reader->num_columns(); ++c) indices.push_back(c);
  }
  std::vector<Column> columns(indices.size());
  {
    py::gil_scoped_release release;
    Column chunk;
    for (size_t k = 0; k < indices.size(); ++k) {
      columns[k].physical = reader->schema()[indices[k]].physical;
      for (int rg = 0; rg < reader->num_row_groups(); ++rg) {
        Column* into = rg == 0 ? &columns[k] : &chunk;
        Check(reader->ReadColumnChunk(rg, indices[k], into));
        if (rg > 0) {
          parquet::AppendRows(chunk, 0, chunk.num_rows, &columns[k]);
          columns[k].null_count += chunk.null_count;
        }
      }
    }
  }
  py::dict out;
  for (size_t k = 0; k < indices.size(); ++k) {
    const ColumnSchema& s = reader->schema()[indices[k]];
    out[py::str(s.name)] = ToArray(s, std::move(columns[k]));
  }
  return out;
}

// A Python column → schema + values. Every column is OPTIONAL (as pyarrow writes pandas data);
// None (and NaT) are nulls, float NaN stays a NaN value.
StatusOr<std::pair<ColumnSchema, Column>> FromArray(const std::string& name, py::handle value) {
  py::array a = py::array::ensure(value);
  if (!a || a.ndim() != 1) return InvalidArgumentError("column '" + name + "': want a 1-D array");
  ColumnSchema s;
  s.name = name;
  s.optional = true;
  Column c;
  c.num_rows = a.shape(0);
  const char kind = a.dtype().kind();
  const auto size = a.dtype().itemsize();
  auto copy = [&](auto* vec) {
    using T = typename std::remove_reference_t<decltype(*vec)>::value_type;
    auto typed = py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(a);
    vec->assign(typed.data(), typed.data() + c.num_rows);
  };
  if (kind == 'b') {
    s.physical = c.physical = PhysicalType::kBoolean;
    copy(&c.boolean);
  } else if ((kind == 'i' && size <= 4) || (kind == 'u' && size <= 2)) {
    s.physical = c.physical = PhysicalType::kInt32;
    s.logical = LogicalKind::kInt;
    s.int_bit_width = static_cast<int32_t>(kind == 'u' ? 32 : size * 8);
    copy(&c.i32);
  } else if (kind == 'i' || (kind == 'u' && size == 4)) {
    s.physical = c.physical = PhysicalType::kInt64;
    s.logical = LogicalKind::kInt;
    s.int_bit_width = 64;
    copy(&c.i64);
  } else if (kind == 'f' && size <= 4) {
    s.physical = c.physical = PhysicalType::kFloat;
    copy(&c.f32);
  } else if (kind == 'f' && size == 8) {
    s.physical = c.physical = PhysicalType::kDouble;
    copy(&c.f64);
  } else if (kind == 'M') {
    std::string unit = py::str(a.dtype()).cast<std::string>();  // datetime64[us]
    unit = unit.substr(unit.find('[') + 1);
    unit.pop_back();
    if (unit != "ms" && unit != "us" && unit != "ns") {
      a = a.attr("astype")("datetime64[us]");
      unit = "us";
    }
    s.physical = c.physical = PhysicalType::kInt64;
    s.logical = LogicalKind::kTimestamp;
    s.time_unit = unit == "ms" ? TimeUnit::kMillis : unit == "ns" ? TimeUnit::kNanos : TimeUnit::kMicros;
    a = a.attr("view")("int64");
    copy(&c.i64);
    for (int64_t i = 0; i < c.num_rows; ++i) {
      if (c.i64[i] != std::numeric_limits<int64_t>::min()) continue;
      if (c.validity.empty()) c.validity.assign(c.num_rows, 1);
      c.validity[i] = 0;
      c.i64[i] = 0;
      ++c.null_count;
    }
  } else if (kind == 'O' || kind == 'U' || kind == 'S') {
    s.physical = c.physical = PhysicalType::kByteArray;
    c.offsets.push_back(0);
    int text = -1;  // unknown until the first value: 1 str, 0 bytes
    for (int64_t i = 0; i < c.num_rows; ++i) {
      py::object v = a.attr("__getitem__")(i);
      const bool is_null = v.is_none() || (py::isinstance<py::float_>(v) && std::isnan(v.cast<double>()));
      if (is_null) {
        if (c.validity.empty()) c.validity.assign(c.num_rows, 1);
        c.validity[i] = 0;
        ++c.null_count;
      } else if (py::isinstance<py::str>(v) && text != 0) {
        text = 1;
        c.bytes += v.cast<std::string>();
      } else if (py::isinstance<py::bytes>(v) && text != 1) {
        text = 0;
        c.bytes += v.cast<std::string>();
      } else {
        return InvalidArgumentError("column '" + name + "': row " + std::to_string(i) + ": " +
                                    std::string(py::str(v.get_type().attr("__name__"))) +
                                    " in a column of " + (text == 0 ? "bytes" : "strings"));
      }
      c.offsets.push_back(static_cast<int64_t>(c.bytes.size()));
    }
    if (text != 0) s.logical = LogicalKind::kString;
  } else {
    return InvalidArgumentError("column '" + name + "': dtype " +
                                std::string(py::str(a.dtype())) + " cannot be written");
  }
  return std::make_pair(std::move(s), std::move(c));
}

StatusOr<parquet::Codec> ParseCodec(const std::string& name) {
  for (parquet::Codec c : {parquet::Codec::kUncompressed, parquet::Codec::kSnappy,
                           parquet::Codec::kGzip, parquet::Codec::kZstd}) {
    std::string n(parquet::CodecName(c));
    for (char& ch : n) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (n == name) return c;
  }
  return InvalidArgumentError("codec '" + name + "': want uncompressed, snappy, gzip or zstd");
}

int64_t WriteParquet(const std::string& path, const py::dict& columns, const std::string& codec,
                     int64_t row_group_rows) {
  std::vector<ColumnSchema> schema;
  std::vector<Column> values;
  for (auto item : columns) {
    auto [s, c] = Unwrap(FromArray(py::str(item.first).cast<std::string>(), item.second));
    schema.push_back(std::move(s));
    values.push_back(std::move(c));
  }
  if (schema.empty()) Check(InvalidArgumentError(path + ": no columns to write"));
  parquet::WriterOptions options;
  options.codec = Unwrap(ParseCodec(codec));
  options.row_group_rows = row_group_rows;
  py::gil_scoped_release release;
  auto writer = Unwrap(parquet::FileWriter::Open(path, std::move(schema), options));
  Check(writer->Write(values));
  Check(writer->Close());
  return writer->rows_written();
}

}  // namespace

void BindParquet(py::module_& m) {
  m.def("_read_parquet", &ReadParquet, py::arg("path"), py::arg("columns"));
  m.def("_write_parquet", &WriteParquet, py::arg("path"), py::arg("columns"), py::arg("codec"),
        py::arg("row_group_rows"));
}

}  // namespace bimride::python
