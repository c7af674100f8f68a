// NumPy arrays over C++ buffers without copying: the vector moves onto the heap and the array's
// base (a capsule) owns it, so the memory lives exactly as long as the array (and its views).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "data/trip_table.h"

namespace bimride::python {

namespace py = pybind11;

// A 1-D (or rows × cols when cols > 0) array of `dtype` over the vector's buffer, which it owns.
template <typename T>
py::array OwnedArray(std::vector<T>&& values, const py::dtype& dtype, int64_t cols = 0) {
  auto* owned = new std::vector<T>(std::move(values));
  py::capsule base(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  const auto n = static_cast<py::ssize_t>(owned->size());
  if (cols > 0) {
    return py::array(dtype, {n / cols, static_cast<py::ssize_t>(cols)},
                     {static_cast<py::ssize_t>(cols * sizeof(T)), py::ssize_t(sizeof(T))},
                     owned->data(), base);
  }
  return py::array(dtype, {n}, {py::ssize_t(sizeof(T))}, owned->data(), base);
}
template <typename T>
py::array OwnedArray(std::vector<T>&& values) {
  return OwnedArray(std::move(values), py::dtype::of<T>());
}

// "datetime64[us]": TripTable's times (naive local microseconds; kNullTime is NaT).
py::dtype MicrosecondTimes();

// The Python name of a TripTable column: the member name, times without "_us" (the dtype says
// the unit).
std::string TripColumnName(const char* member);

// TripTable ⇄ {name: array}. To Python moves every column (no copy); `columns` (empty: all)
// selects and orders them, an unknown name is InvalidArgument listing the names. From Python
// copies into a TripTable: columns may be missing (then null) but must be of one length; times
// datetime64 (any unit) or int64 microseconds, others cast to the column's type.
py::dict TripsToColumns(data::TripTable trips, const std::vector<std::string>& columns);
StatusOr<data::TripTable> TripsFromColumns(const py::dict& columns, const std::string& source);

// Every TripTable column name, in order.
std::vector<std::string> TripColumnNames();

}  // namespace bimride::python
