#include "monitoring/labelled_rows.h"

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <memory>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "monitoring/prediction_log.h"  // LogDay: the partitions
#include "parquet/file_reader.h"

namespace bimride::monitoring {
namespace fs = std::filesystem;
namespace {

std::string RowKey(std::string_view id, int64_t row) {
  std::string key(id);
  key += '\x1f';
  key += std::to_string(row);
  return key;
}

bool IsShadow(std::string_view route) { return route.rfind("shadow", 0) == 0; }

// The schema indices of `names` in `reader`'s file (NotFound naming the file and column).
StatusOr<std::vector<int>> Columns(const parquet::FileReader& reader,
                                   const std::vector<std::string>& names) {
  std::vector<int> out;
  for (const std::string& n : names) {
    ASSIGN_OR_RETURN(int c, reader.ColumnIndex(n));
    out.push_back(c);
  }
  return out;
}

// Checks that a column has the physical type this reader takes it as.
Status Expect(const parquet::FileReader& reader, int column, parquet::PhysicalType type) {
  if (reader.schema()[column].physical != type) {
    return DataLossError(reader.name() + ": column '" + reader.schema()[column].name +
                         "' has physical type " +
                         std::string(parquet::PhysicalTypeName(reader.schema()[column].physical)) +
                         "; expected " + std::string(parquet::PhysicalTypeName(type)));
  }
  return OkStatus();
}

struct Logged {
  LabelledRow row;
  int64_t order = 0;
};

Status ReadPredictions(const std::string& path, int64_t t0, int64_t t1,
                       std::unordered_map<std::string, size_t>* index, std::vector<Logged>* out,
                       int64_t* order) {
  using parquet::PhysicalType;
  ASSIGN_OR_RETURN(auto reader, parquet::FileReader::Open(path));
  ASSIGN_OR_RETURN(std::vector<int> cols,
                   Columns(*reader, {"request_id", "time", "version", "route", "row", "raw"}));
  int y = -1;
  for (int c = 0; c < reader->num_columns(); ++c) {
    if (reader->schema()[c].name.rfind("y_", 0) == 0) {
      y = c;
      break;
    }
  }
  if (y < 0) return DataLossError(path + ": no output column (y_…)");
  cols.push_back(y);
  const PhysicalType types[] = {PhysicalType::kByteArray, PhysicalType::kInt64,
                                PhysicalType::kInt64,     PhysicalType::kByteArray,
                                PhysicalType::kInt32,     PhysicalType::kByteArray,
                                PhysicalType::kFloat};
  for (size_t k = 0; k < cols.size(); ++k) RETURN_IF_ERROR(Expect(*reader, cols[k], types[k]));
  for (int rg = 0; rg < reader->num_row_groups(); ++rg) {
    ASSIGN_OR_RETURN(parquet::RowGroupBatch b, reader->ReadRowGroup(rg, cols));
    const auto& id = b.columns[0];
    const auto& time = b.columns[1];
    const auto& version = b.columns[2];
    const auto& route = b.columns[3];
    const auto& row = b.columns[4];
    const auto& raw = b.columns[5];
    const auto& pred = b.columns[6];
    for (int64_t i = 0; i < b.num_rows; ++i) {
      const int64_t t = time.i64[i];
      if (t < t0 || t > t1) continue;
      Logged l;
      l.row.request_id = std::string(id.ByteValue(i));
      l.row.row = row.i32[i];
      l.row.time_us = t;
      l.row.version = version.i64[i];
      l.row.route = std::string(route.ByteValue(i));
      l.row.raw = std::string(raw.ByteValue(i));
      l.row.predicted = pred.f32[i];
      l.order = (*order)++;
      auto [it, inserted] = index->try_emplace(RowKey(l.row.request_id, l.row.row), out->size());
      if (inserted) {
        out->push_back(std::move(l));
      } else if (IsShadow((*out)[it->second].row.route) && !IsShadow(l.row.route)) {
        l.order = (*out)[it->second].order;
        (*out)[it->second] = std::move(l);  // the answering version's row wins over a shadow's
      }
    }
  }
  return OkStatus();
}

Status ReadLabels(const std::string& path, std::unordered_map<std::string, double>* labels) {
  using parquet::PhysicalType;
  ASSIGN_OR_RETURN(auto reader, parquet::FileReader::Open(path));
  ASSIGN_OR_RETURN(std::vector<int> cols, Columns(*reader, {"request_id", "row", "actual"}));
  RETURN_IF_ERROR(Expect(*reader, cols[0], PhysicalType::kByteArray));
  RETURN_IF_ERROR(Expect(*reader, cols[1], PhysicalType::kInt32));
  RETURN_IF_ERROR(Expect(*reader, cols[2], PhysicalType::kDouble));
  for (int rg = 0; rg < reader->num_row_groups(); ++rg) {
    ASSIGN_OR_RETURN(parquet::RowGroupBatch b, reader->ReadRowGroup(rg, cols));
    for (int64_t i = 0; i < b.num_rows; ++i) {
      // The first label of a row stays (the monitor persists no duplicates; a shadow's record
      // of the same label carries the same value).
      labels->try_emplace(RowKey(b.columns[0].ByteValue(i), b.columns[1].i32[i]),
                          b.columns[2].f64[i]);
    }
  }
  return OkStatus();
}

}  // namespace

StatusOr<LabelledRows> ReadLabelledRows(const std::string& log_dir, const std::string& model,
                                        int64_t t0_us, int64_t t1_us) {
  if (model.empty() || model.find('/') != std::string::npos || model == "." || model == "..") {
    return InvalidArgumentError("labelled rows: bad model name '" + model + "'");
  }
  if (t1_us < t0_us) {
    return InvalidArgumentError("labelled rows: the end time " + std::to_string(t1_us) +
                                " is before the start " + std::to_string(t0_us));
  }
  const fs::path model_dir = fs::path(log_dir) / model;
  std::error_code ec;
  if (!fs::is_directory(model_dir, ec)) {
    return NotFoundError("labelled rows: no prediction log of model '" + model + "' in " +
                         log_dir + " (no folder " + model_dir.string() + ")");
  }
  const std::string first_day = LogDay(t0_us), last_day = LogDay(t1_us);
  std::vector<std::string> prediction_files, label_files;
  for (auto it = fs::directory_iterator(model_dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    const std::string day = it->path().filename().string();
    if (!it->is_directory(ec) || day < first_day || day > last_day) continue;
    for (auto f = fs::directory_iterator(it->path(), ec); !ec && f != fs::directory_iterator();
         f.increment(ec)) {
      const std::string name = f->path().filename().string();
      if (f->path().extension() != ".parquet") continue;  // open files are "….parquet.tmp-<pid>"
      if (name.rfind("labels-", 0) == 0) {
        label_files.push_back(f->path().string());
      } else if (name.rfind("v", 0) == 0) {
        prediction_files.push_back(f->path().string());
      }
    }
  }
  if (ec) return InternalError("labelled rows: listing " + model_dir.string() + ": " + ec.message());
  // Day folders and files named by first time: sorted names are roughly time order; the final
  // order is by time anyway.
  std::sort(prediction_files.begin(), prediction_files.end());
  std::sort(label_files.begin(), label_files.end());

  std::unordered_map<std::string, size_t> index;
  std::vector<Logged> logged;
  int64_t order = 0;
  for (const std::string& path : prediction_files) {
    RETURN_IF_ERROR(ReadPredictions(path, t0_us, t1_us, &index, &logged, &order));
  }
  std::unordered_map<std::string, double> labels;
  for (const std::string& path : label_files) RETURN_IF_ERROR(ReadLabels(path, &labels));

  LabelledRows out;
  out.prediction_files = static_cast<int64_t>(prediction_files.size());
  out.label_files = static_cast<int64_t>(label_files.size());
  out.predicted_rows = static_cast<int64_t>(logged.size());
  std::sort(logged.begin(), logged.end(), [](const Logged& a, const Logged& b) {
    return a.row.time_us != b.row.time_us ? a.row.time_us < b.row.time_us : a.order < b.order;
  });
  for (Logged& l : logged) {
    auto it = labels.find(RowKey(l.row.request_id, l.row.row));
    if (it == labels.end()) {
      ++out.unlabelled_rows;
      continue;
    }
    l.row.actual = it->second;
    out.rows.push_back(std::move(l.row));
  }
  return out;
}

}  // namespace bimride::monitoring
