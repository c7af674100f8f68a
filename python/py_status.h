// The one place where a Status becomes a Python exception (docs/architecture.md: errors are
// values until the edge): bimride.Error, a subclass of Exception whose str() is the Status
// message exactly as the C++ libraries and the `bimride` command word it, and whose `code` is
// the StatusCode name ("NOT_FOUND", "DATA_LOSS", …). Binding code calls Unwrap / Check on every
// library result; nothing else raises for a library error.
#pragma once

#include <pybind11/pybind11.h>

#include <utility>

#include "common/status.h"

namespace bimride::python {

namespace py = pybind11;

// Creates bimride.Error in `m` and installs the translator.
void RegisterError(py::module_& m);

// A C++ exception carrying the Status; the translator turns it into bimride.Error.
struct StatusError {
  Status status;
};

inline void Check(const Status& status) {
  if (!status.ok()) throw StatusError{status};
}

template <typename T>
T Unwrap(StatusOr<T> result) {
  if (!result.ok()) throw StatusError{result.status()};
  return std::move(result).value();
}

// An InvalidArgument about the caller's Python arguments, raised as bimride.Error too.
[[noreturn]] void ThrowInvalidArgument(const std::string& message);

}  // namespace bimride::python
