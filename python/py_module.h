// The parts of the `bimride._bimride` extension, each binding one library area (module.cc
// calls them). Python-facing signatures and docs live in bimride/__init__.py and the .pyi stub.
#pragma once

#include <pybind11/pybind11.h>

#include "data/trip_validation.h"

namespace bimride::python {

namespace py = pybind11;

void BindData(py::module_& m);      // py_data.cc
void BindParquet(py::module_& m);   // py_parquet.cc
void BindFeatures(py::module_& m);  // py_features.cc
void BindDemand(py::module_& m);    // py_demand.cc
void BindRegistry(py::module_& m);  // py_registry.cc

// A validation report as a dict (read, kept, quarantined, per_rule, month, …, text).
py::dict ReportToDict(const data::ValidationReport& report);

}  // namespace bimride::python
