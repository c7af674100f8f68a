// bimride.read_trips / inspect and the trip columns ⇄ NumPy (data/).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>

#include "data/trip_loader.h"
#include "data/trip_table.h"
#include "data/trip_validation.h"
#include "parquet/file_reader.h"
#include "py_arrays.h"
#include "py_module.h"
#include "py_status.h"

namespace bimride::python {

py::dtype MicrosecondTimes() { return py::dtype("datetime64[us]"); }

std::string TripColumnName(const char* member) {
  std::string name(member);
  if (name.size() > 3 && name.compare(name.size() - 3, 3, "_us") == 0) name.resize(name.size() - 3);
  return name;
}

std::vector<std::string> TripColumnNames() {
  std::vector<std::string> names;
#define X(col) names.push_back(TripColumnName(#col));
  BIMRIDE_TRIP_COLUMNS(X)
#undef X
  return names;
}

namespace {

template <typename T>
py::dtype ColumnDtype(const std::string& name) {
  return name.ends_with("_time") ? MicrosecondTimes() : py::dtype::of<T>();
}

// Copies a Python column into `out` (n rows); times may be datetime64 of any unit.
template <typename T>
Status CopyColumn(const py::dict& columns, const std::string& name, int64_t n, T null_value,
                  std::vector<T>* out) {
  if (!columns.contains(name)) {
    out->assign(static_cast<size_t>(n), null_value);
    return Status();
  }
  py::array array = py::array::ensure(columns[py::str(name)]);
  if (!array) return InvalidArgumentError("column '" + name + "': not an array");
  if (array.dtype().kind() == 'M') array = array.attr("astype")(MicrosecondTimes()).attr("view")("int64");
  auto typed = py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(array);
  if (!typed || typed.ndim() != 1) {
    return InvalidArgumentError("column '" + name + "': want a 1-D array of " +
                                std::string(py::str(py::dtype::of<T>())));
  }
  if (typed.shape(0) != n) {
    return InvalidArgumentError("column '" + name + "' has " + std::to_string(typed.shape(0)) +
                                " rows, the first column " + std::to_string(n));
  }
  out->assign(typed.data(), typed.data() + n);
  return Status();
}

}  // namespace

py::dict TripsToColumns(data::TripTable trips, const std::vector<std::string>& columns) {
  const std::vector<std::string> all = TripColumnNames();
  for (const std::string& c : columns) {
    if (std::find(all.begin(), all.end(), c) == all.end()) {
      std::string names;
      for (const std::string& a : all) names += (names.empty() ? "" : ", ") + a;
      Check(InvalidArgumentError("unknown trip column '" + c + "' (want " + names + ")"));
    }
  }
  py::dict arrays;
#define X(col)                                                                     \
  arrays[py::str(TripColumnName(#col))] = OwnedArray(                              \
      std::move(trips.col), ColumnDtype<decltype(trips.col)::value_type>(TripColumnName(#col)));
  BIMRIDE_TRIP_COLUMNS(X)
#undef X
  if (columns.empty()) return arrays;
  py::dict selected;
  for (const std::string& c : columns) selected[py::str(c)] = arrays[py::str(c)];
  return selected;
}

StatusOr<data::TripTable> TripsFromColumns(const py::dict& columns, const std::string& source) {
  data::TripTable t;
  ASSIGN_OR_RETURN(t.source, data::ParseTripSource(source));
  int64_t n = -1;
  for (auto item : columns) {
    py::array a = py::array::ensure(item.second);
    if (a && a.ndim() == 1) {
      n = a.shape(0);
      break;
    }
  }
  if (n < 0) return InvalidArgumentError("trips: no 1-D column");
  const data::TripRow null_row;
#define X(col) RETURN_IF_ERROR(CopyColumn(columns, TripColumnName(#col), n, null_row.col, &t.col));
  BIMRIDE_TRIP_COLUMNS(X)
#undef X
  return t;
}

py::dict ReportToDict(const data::ValidationReport& r) {
  py::dict d;
  d["read"] = r.read;
  d["kept"] = r.kept;
  d["quarantined"] = r.quarantined;
  py::dict rules;
  for (int i = 0; i < data::kTripRuleCount; ++i) {
    rules[py::str(std::string(data::TripRuleName(static_cast<data::TripRule>(i))))] = r.per_rule[i];
  }
  d["per_rule"] = rules;
  d["month"] = r.month_year > 0 ? py::object(py::make_tuple(r.month_year, r.month)) : py::none();
  d["month_from"] = r.month_from;
  py::object datetime64 = py::module_::import("numpy").attr("datetime64");
  d["first_pickup"] = datetime64(r.first_pickup_us, "us");
  d["last_pickup"] = datetime64(r.last_pickup_us, "us");
  d["text"] = r.ToString();
  return d;
}

namespace {

data::LoadTripsOptions LoadOptions(const std::optional<std::string>& layout, bool validate,
                                   const std::optional<std::string>& zones_dir) {
  data::LoadTripsOptions o;
  o.validate = validate;
  if (layout) o.layout_file = *layout;
  if (zones_dir) o.zones_dir = *zones_dir;
  return o;
}

py::dict LoadedReport(const data::LoadedTrips& loaded) {
  py::dict report = ReportToDict(loaded.report);
  py::list files;
  for (const data::FileLoadReport& f : loaded.files) {
    py::dict file = ReportToDict(f.report);
    file["path"] = f.path;
    file["format"] = f.format;
    files.append(file);
  }
  report["files"] = files;
  return report;
}

py::object ReadTrips(const std::vector<std::string>& files,
                     const std::optional<std::vector<std::string>>& columns,
                     const std::optional<std::string>& layout, bool validate,
                     const std::optional<std::string>& zones_dir, bool with_report) {
  data::LoadTripsOptions options = LoadOptions(layout, validate, zones_dir);
  if (columns) {  // unvalidated Parquet then decodes only these
    const std::vector<std::string> all = TripColumnNames();
    std::vector<std::string> members;
#define X(col) members.push_back(#col);
    BIMRIDE_TRIP_COLUMNS(X)
#undef X
    for (const std::string& c : *columns) {
      auto it = std::find(all.begin(), all.end(), c);
      if (it == all.end()) {
        std::string names;
        for (const std::string& a : all) names += (names.empty() ? "" : ", ") + a;
        Check(InvalidArgumentError("unknown trip column '" + c + "' (want " + names + ")"));
      }
      options.columns.push_back(members[static_cast<size_t>(it - all.begin())]);
    }
  }
  data::LoadedTrips l;
  {
    py::gil_scoped_release release;
    l = Unwrap(data::LoadTripsWithReport(files, options));
  }
  py::dict report = with_report ? LoadedReport(l) : py::dict();
  const std::string source(data::TripSourceName(l.trips.source));
  py::dict arrays = TripsToColumns(std::move(l.trips), columns.value_or(std::vector<std::string>{}));
  return py::make_tuple(arrays, source, with_report ? py::object(report) : py::none());
}

py::dict Inspect(const std::string& path, const std::optional<std::string>& layout, bool validate,
                 const std::optional<std::string>& zones_dir) {
  const data::LoadTripsOptions options = LoadOptions(layout, validate, zones_dir);
  py::dict d;
  d["path"] = path;
  const data::TripFileFormat format = Unwrap(data::DetectTripFileFormat(path));
  if (format == data::TripFileFormat::kParquet) {
    auto reader = Unwrap(parquet::FileReader::Open(path));
    d["rows"] = reader->num_rows();
    d["row_groups"] = reader->num_row_groups();
    d["created_by"] = reader->created_by();
    py::list schema;
    for (int c = 0; c < reader->num_columns(); ++c) {
      const parquet::ColumnSchema& s = reader->schema()[c];
      py::dict col;
      col["name"] = s.name;
      col["physical_type"] = std::string(parquet::PhysicalTypeName(s.physical));
      col["optional"] = s.optional;
      std::optional<int64_t> nulls = 0;
      for (int rg = 0; rg < reader->num_row_groups() && nulls; ++rg) {
        const auto& st = reader->statistics(rg, c);
        nulls = st.null_count ? std::optional<int64_t>(*nulls + *st.null_count) : std::nullopt;
      }
      col["null_count"] = nulls ? py::object(py::int_(*nulls)) : py::none();
      schema.append(col);
    }
    d["schema"] = schema;
  } else {
    d["schema"] = py::none();
  }
  data::LoadedTrips loaded;
  std::string text;
  {
    py::gil_scoped_release release;
    loaded = Unwrap(data::LoadTripsWithReport({path}, options));
    text = Unwrap(data::DescribeTripFile(path, options));
  }
  d["format"] = loaded.files.empty() ? std::string() : loaded.files[0].format;
  d["source"] = std::string(data::TripSourceName(loaded.trips.source));
  if (format != data::TripFileFormat::kParquet) d["rows"] = loaded.report.read;
  d["report"] = validate ? py::object(ReportToDict(loaded.report)) : py::none();
  d["text"] = text;
  return d;
}

}  // namespace

void BindData(py::module_& m) {
  m.def("_read_trips", &ReadTrips, py::arg("files"), py::arg("columns"), py::arg("layout"),
        py::arg("validate"), py::arg("zones_dir"), py::arg("report"));
  m.def("_inspect", &Inspect, py::arg("path"), py::arg("layout"), py::arg("validate"),
        py::arg("zones_dir"));
  m.def("trip_columns", &TripColumnNames, "Every trip column read_trips can return, in order.");
}

}  // namespace bimride::python
