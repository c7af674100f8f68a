// bimride._bimride: the extension behind the `bimride` Python package (python/bimride/).
#include <pybind11/pybind11.h>

#include "common/version.h"
#include "py_module.h"
#include "py_status.h"

PYBIND11_MODULE(_bimride, m) {
  namespace bp = bimride::python;
  m.doc() = "BimRide ML's C++ libraries for Python (use the `bimride` package, not this module).";
  m.attr("__version__") = bimride::kVersion;
  bp::RegisterError(m);
  bp::BindData(m);
  bp::BindParquet(m);
  bp::BindFeatures(m);
  bp::BindDemand(m);
  bp::BindRegistry(m);
}
