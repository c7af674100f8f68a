#include "monitoring/prediction_log.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <system_error>
#include <utility>

#include "common/file.h"
#include "common/logging.h"
#include "common/thread_name.h"
#include "parquet/file_writer.h"

namespace bimride::monitoring {
namespace fs = std::filesystem;

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// FNV-1a of the request id: the same request is always in or out of the sample.
double SampleKey(const std::string& id) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : id) h = (h ^ c) * 1099511628211ull;
  return static_cast<double>(h >> 11) / static_cast<double>(uint64_t{1} << 53);
}

// Column names from feature/output names: a prefix, and anything but [A-Za-z0-9_] as '_'.
std::string ColumnName(const std::string& prefix, const std::string& name) {
  std::string out = prefix;
  for (char c : name) out += std::isalnum(static_cast<unsigned char>(c)) || c == '_' ? c : '_';
  return out;
}

parquet::Column StringColumn() {
  parquet::Column c;
  c.physical = parquet::PhysicalType::kByteArray;
  c.offsets.push_back(0);
  return c;
}

void AppendString(parquet::Column& c, std::string_view s) {
  c.bytes.append(s);
  c.offsets.push_back(static_cast<int64_t>(c.bytes.size()));
  ++c.num_rows;
}

// A batch's unrendered raw fields rendered into the `raw` column, exactly one text per row (an
// empty text for a row they lack); none: an empty text per row.
void AppendRawRows(parquet::Column& c, const PredictionBatch& b) {
  const size_t first = c.offsets.size();
  if (b.raw_rows) b.raw_rows->AppendJson(&c.bytes, &c.offsets);
  const size_t want = first + static_cast<size_t>(b.rows);
  if (c.offsets.size() > want) {
    c.offsets.resize(want);
    c.bytes.resize(static_cast<size_t>(c.offsets.back()));
  }
  while (c.offsets.size() < want) c.offsets.push_back(static_cast<int64_t>(c.bytes.size()));
  c.num_rows += b.rows;
}

// A new Parquet file at `path` (its folder `dir` made first).
StatusOr<std::unique_ptr<parquet::FileWriter>> CreateParquet(
    const std::string& dir, const std::string& path,
    const std::vector<parquet::ColumnSchema>& schema, int64_t row_group_rows) {
  RETURN_IF_ERROR(MakeDirs(dir));
  parquet::WriterOptions wo;
  wo.row_group_rows = row_group_rows;
  return parquet::FileWriter::Open(path, schema, wo);
}

}  // namespace

std::string LogDay(int64_t time_us) {
  const std::time_t t = static_cast<std::time_t>(time_us / 1000000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

struct PredictionLog::OpenFile {
  std::unique_ptr<parquet::FileWriter> writer;
  std::string path;
  ColumnNames feature_names, output_names;
  int64_t rows = 0;
  int64_t opened_ms = 0;
  bool labels = false;  // a label file (LabelRecord rows)
};

StatusOr<std::unique_ptr<PredictionLog>> PredictionLog::Open(PredictionLogOptions o) {
  if (o.dir.empty()) return InvalidArgumentError("prediction log: no directory");
  if (!(o.sample_rate > 0.0 && o.sample_rate <= 1.0)) {
    return InvalidArgumentError("prediction log: sample_rate must be in (0, 1]");
  }
  if (o.queue_rows < 1 || o.max_file_rows < 1 || o.max_file_age_ms < 1 ||
      o.disk_budget_bytes < 1 || o.row_group_rows < 1 || o.wake_rows < 1 ||
      o.wake_interval_ms < 1) {
    return InvalidArgumentError(
        "prediction log: queue_rows, max_file_rows, max_file_age_ms, disk_budget_bytes, "
        "row_group_rows, wake_rows and wake_interval_ms must be positive");
  }
  RETURN_IF_ERROR(MakeDirs(o.dir));
  std::unique_ptr<PredictionLog> log(new PredictionLog(std::move(o)));
  log->writer_ = std::thread([p = log.get()] {
    NameThisThread("log-writer");
    p->WriterLoop();
  });
  return log;
}

PredictionLog::PredictionLog(PredictionLogOptions options)
    : options_(std::move(options)),
      wake_rows_(std::max<int64_t>(1, std::min(options_.wake_rows, options_.queue_rows / 2))) {}

PredictionLog::~PredictionLog() {
  (void)Flush();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) writer_.join();
}

bool PredictionLog::Sample(const std::string& request_id) {
  if (options_.sample_rate < 1.0 && SampleKey(request_id) >= options_.sample_rate) {
    sampled_out_.fetch_add(1);
    return false;
  }
  return true;
}

bool PredictionLog::Log(PredictionBatch batch) {
  if (!Sample(batch.request_id)) return false;
  const size_t rows = static_cast<size_t>(std::max<int64_t>(batch.rows, 0));
  const size_t width = batch.feature_names.empty() && rows > 0 ? batch.features.size() / rows
                                                                : batch.feature_names.size();
  if (batch.rows < 1 || batch.features.size() != rows * width ||
      batch.outputs.size() != rows * batch.output_names.size() ||
      (!batch.raw.empty() && batch.raw.size() != rows)) {
    dropped_rows_.fetch_add(static_cast<int64_t>(rows));
    return false;
  }
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queued_rows_ + batch.rows > options_.queue_rows) {
      dropped_rows_.fetch_add(batch.rows);
      return false;
    }
    // One wake-up per wake_rows rows (the writer also wakes on its own every
    // wake_interval_ms): a request never pays for a futex wake and a context switch.
    wake = queued_rows_ < wake_rows_ && queued_rows_ + batch.rows >= wake_rows_;
    queued_rows_ += batch.rows;
    queued_prediction_rows_ += batch.rows;
    queue_.push_back(std::move(batch));
  }
  if (wake) wake_.notify_one();
  return true;
}

bool PredictionLog::LogLabels(std::vector<LabelRecord> labels) {
  if (labels.empty()) return true;
  const auto n = static_cast<int64_t>(labels.size());
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queued_rows_ + n > options_.queue_rows) {
      dropped_labels_.fetch_add(n);
      return false;
    }
    // Woken as for predictions: once per wake_rows queued rows, else within wake_interval_ms.
    wake = queued_rows_ < wake_rows_ && queued_rows_ + n >= wake_rows_;
    queued_rows_ += n;
    label_queue_.push_back(std::move(labels));
  }
  if (wake) wake_.notify_one();
  return true;
}

Status PredictionLog::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  const int64_t ticket = ++flush_requests_;
  wake_.notify_all();
  drained_.wait(lock, [&] { return flushes_done_ >= ticket || stop_; });
  Status st = last_error_;
  last_error_ = OkStatus();
  return st;
}

PredictionLogStats PredictionLog::stats() const {
  return {logged_rows_.load(), sampled_out_.load(), dropped_rows_.load(), lost_rows_.load(),
          write_errors_.load(), files_closed_.load(), deleted_files_.load(),
          bytes_on_disk_.load(), logged_labels_.load(), dropped_labels_.load(),
          lost_labels_.load()};
}

void PredictionLog::WriterLoop() {
  std::vector<PredictionBatch> taken;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    wake_.wait_for(lock, std::chrono::milliseconds(options_.wake_interval_ms), [&] {
      return stop_ || queued_rows_ >= wake_rows_ || flush_requests_ > flushes_done_;
    });
    // A flush asked for now covers what is queued now.
    const int64_t wanted = flush_requests_;
    const bool stopping = stop_;
    // The whole queue at once, in O(1) under the lock (the request threads wait on it): the
    // request side refills the empty vector `taken` had, with the capacity it kept.
    taken.swap(queue_);
    queued_rows_ -= queued_prediction_rows_;
    queued_prediction_rows_ = 0;
    lock.unlock();
    if (!taken.empty()) {
      WriteAll(taken);
      if (PredictionObserver* o = observer_.load()) o->ObserveAll(taken);
      taken.clear();  // the batches freed outside the lock
    }
    // Labels after the predictions: the observer may have just joined (and queued) some.
    lock.lock();
    std::deque<std::vector<LabelRecord>> labels;
    labels.swap(label_queue_);
    for (const std::vector<LabelRecord>& l : labels) {
      queued_rows_ -= static_cast<int64_t>(l.size());
    }
    lock.unlock();
    for (const std::vector<LabelRecord>& l : labels) WriteLabels(l);
    labels.clear();  // freed outside the lock
    CloseIdleFiles(/*all=*/wanted > flushes_done_ || stopping);
    lock.lock();
    if (wanted > flushes_done_) {
      flushes_done_ = wanted;
      drained_.notify_all();
    }
    if (stop_ && queue_.empty() && label_queue_.empty()) return;
  }
}

void PredictionLog::WriteAll(std::vector<PredictionBatch>& batches) {
  for (PredictionBatch& b : batches) {
    if (b.feature_names.empty()) {
      const size_t width = b.features.size() / static_cast<size_t>(b.rows);
      std::vector<std::string> names;
      for (size_t k = 0; k < width; ++k) names.push_back(std::to_string(k));
      b.feature_names = ColumnNames(std::move(names));
    }
  }
  // Runs of consecutive batches for one file: the same model, version, UTC day and column
  // lists, cut where the file reaches max_file_rows (it is rolled there, as row by row).
  size_t i = 0;
  while (i < batches.size()) {
    std::string key;
    OpenFile* file = FileFor(batches[i], &key);
    if (file == nullptr) {
      ++i;
      continue;
    }
    const PredictionBatch& first = batches[i];
    const int64_t day = first.time_us / 86400000000;
    int64_t rows = first.rows;
    size_t j = i + 1;
    while (j < batches.size() && file->rows + rows < options_.max_file_rows) {
      const PredictionBatch& b = batches[j];
      if (b.version != first.version || b.time_us / 86400000000 != day ||
          b.model != first.model || !(b.feature_names == first.feature_names) ||
          !(b.output_names == first.output_names)) {
        break;
      }
      rows += b.rows;
      ++j;
    }
    WriteRun(key, *file, &batches[i], j - i, rows);
    i = j;
  }
}

PredictionLog::OpenFile* PredictionLog::FileFor(const PredictionBatch& b, std::string* key) {
  const std::string day = LogDay(b.time_us);
  *key = b.model + "/" + day + "/" + std::to_string(b.version);
  auto it = open_.find(*key);
  // A version whose feature or output names changed (republished with the same number after a
  // wipe) starts a new file.
  if (it != open_.end() && (!(it->second->feature_names == b.feature_names) ||
                            !(it->second->output_names == b.output_names))) {
    CloseFile(*key);
    it = open_.end();
  }
  if (it != open_.end()) return it->second.get();
  auto file = std::make_unique<OpenFile>();
  file->feature_names = b.feature_names;
  file->output_names = b.output_names;
  file->opened_ms = NowMs();
  const std::string dir = options_.dir + "/" + b.model + "/" + day;
  file->path = dir + "/v" + std::to_string(b.version) + "-" + std::to_string(b.time_us) + "-" +
               std::to_string(++sequence_) + ".parquet";
  using parquet::ColumnSchema;
  using parquet::LogicalKind;
  using parquet::PhysicalType;
  std::vector<ColumnSchema> schema = {
      {"request_id", PhysicalType::kByteArray, LogicalKind::kString},
      {"time", PhysicalType::kInt64, LogicalKind::kTimestamp, parquet::TimeUnit::kMicros, true},
      {"model", PhysicalType::kByteArray, LogicalKind::kString},
      {"version", PhysicalType::kInt64},
      {"route", PhysicalType::kByteArray, LogicalKind::kString},
      {"row", PhysicalType::kInt32},
      {"raw", PhysicalType::kByteArray, LogicalKind::kString}};
  for (const std::string& f : b.feature_names) {
    schema.push_back({ColumnName("f_", f), PhysicalType::kFloat});
  }
  for (const std::string& y : b.output_names) {
    schema.push_back({ColumnName("y_", y), PhysicalType::kFloat});
  }
  schema.push_back({"latency_us", PhysicalType::kFloat});
  StatusOr<std::unique_ptr<parquet::FileWriter>> w =
      CreateParquet(dir, file->path, schema, options_.row_group_rows);
  if (!w.ok()) {
    NoteWriteError(w.status());
    lost_rows_.fetch_add(b.rows);
    return nullptr;
  }
  file->writer = std::move(w).value();
  return open_.emplace(*key, std::move(file)).first->second.get();
}

void PredictionLog::NoteWriteError(const Status& error) {
  write_errors_.fetch_add(1);
  BIMRIDE_LOG(WARN) << "prediction log: " << error.message();
  std::lock_guard<std::mutex> lock(mu_);
  last_error_ = error;
}

void PredictionLog::WriteRun(const std::string& key, OpenFile& f, const PredictionBatch* batches,
                             size_t n, int64_t rows) {
  const size_t nf = f.feature_names.size(), ny = f.output_names.size();
  const size_t total = static_cast<size_t>(rows);
  // The file's columns, typed by its schema (FileFor): request_id, time, model, version, route,
  // row, raw, the features, the outputs, latency_us. Kept between runs (emptied, not freed), so
  // a run reuses the last one's buffers.
  using parquet::PhysicalType;
  const std::vector<parquet::ColumnSchema>& schema = f.writer->schema();
  std::vector<parquet::Column>& cols = run_columns_;
  cols.resize(schema.size());
  for (size_t k = 0; k < cols.size(); ++k) {
    parquet::Column& c = cols[k];
    c.Clear();
    c.physical = schema[k].physical;
    if (c.physical == PhysicalType::kByteArray) {
      c.offsets.reserve(total + 1);
      c.offsets.push_back(0);
    }
  }
  parquet::Column &id = cols[0], &time = cols[1], &model = cols[2], &version = cols[3],
                  &route = cols[4], &row = cols[5], &raw = cols[6], &latency = cols.back();
  parquet::Column* feats = cols.data() + 7;
  parquet::Column* outs = feats + nf;
  time.i64.reserve(total);
  version.i64.reserve(total);
  row.i32.reserve(total);
  latency.f32.reserve(total);
  for (size_t k = 0; k < nf; ++k) feats[k].f32.reserve(total);
  for (size_t k = 0; k < ny; ++k) outs[k].f32.reserve(total);
  for (size_t i = 0; i < n; ++i) {
    const PredictionBatch& b = batches[i];
    if (b.raw.empty()) AppendRawRows(raw, b);
    for (int64_t r = 0; r < b.rows; ++r) {
      AppendString(id, b.request_id);
      AppendString(model, b.model);
      AppendString(route, b.route);
      if (!b.raw.empty()) AppendString(raw, b.raw[r]);
      time.i64.push_back(b.time_us);
      version.i64.push_back(b.version);
      row.i32.push_back(static_cast<int32_t>(r));
      latency.f32.push_back(b.latency_us);
      const float* x = b.features.data() + static_cast<size_t>(r) * nf;
      for (size_t k = 0; k < nf; ++k) feats[k].f32.push_back(x[k]);
      const float* y = b.outputs.data() + static_cast<size_t>(r) * ny;
      for (size_t k = 0; k < ny; ++k) outs[k].f32.push_back(y[k]);
    }
  }
  for (parquet::Column& c : cols) {
    if (c.physical != PhysicalType::kByteArray) c.num_rows = rows;
  }
  if (Status st = f.writer->Write(cols); !st.ok()) {
    write_errors_.fetch_add(1);
    lost_rows_.fetch_add(rows);
    BIMRIDE_LOG(WARN) << "prediction log: " << st.message();
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_error_ = st;
    }
    lost_rows_.fetch_add(f.rows);  // what the abandoned file held
    logged_rows_.fetch_sub(f.rows);
    open_.erase(key);  // the writer's destructor removes its temporary file
    return;
  }
  if (rows > 2 * wake_rows_) run_columns_.clear();
  f.rows += rows;
  logged_rows_.fetch_add(rows);
  if (f.rows >= options_.max_file_rows) CloseFile(key);
}

void PredictionLog::WriteLabels(const std::vector<LabelRecord>& labels) {
  // One group per (model, day) partition, in arrival order within each.
  std::map<std::pair<std::string, std::string>, std::vector<const LabelRecord*>> groups;
  for (const LabelRecord& l : labels) {
    const bool unmatched = l.model.empty();
    const std::string model = unmatched ? std::string(kUnmatchedLabelsModel) : l.model;
    const std::string day = LogDay(unmatched ? l.label_time_us : l.prediction_time_us);
    groups[{model, day}].push_back(&l);
  }
  for (const auto& [where, rows] : groups) WriteLabelGroup(where.first, where.second, rows);
}

void PredictionLog::WriteLabelGroup(const std::string& model, const std::string& day,
                                    const std::vector<const LabelRecord*>& rows) {
  const auto n = static_cast<int64_t>(rows.size());
  const std::string key = model + "/" + day + "/labels";
  auto it = open_.find(key);
  if (it == open_.end()) {
    auto file = std::make_unique<OpenFile>();
    file->labels = true;
    file->opened_ms = NowMs();
    const std::string dir = options_.dir + "/" + model + "/" + day;
    file->path = dir + "/labels-" + std::to_string(rows.front()->label_time_us) + "-" +
                 std::to_string(++sequence_) + ".parquet";
    using parquet::ColumnSchema;
    using parquet::LogicalKind;
    using parquet::PhysicalType;
    const std::vector<ColumnSchema> schema = {
        {"request_id", PhysicalType::kByteArray, LogicalKind::kString},
        {"row", PhysicalType::kInt32},
        {"version", PhysicalType::kInt64},
        {"route", PhysicalType::kByteArray, LogicalKind::kString},
        {"prediction_time", PhysicalType::kInt64, LogicalKind::kTimestamp,
         parquet::TimeUnit::kMicros, true},
        {"label_time", PhysicalType::kInt64, LogicalKind::kTimestamp, parquet::TimeUnit::kMicros,
         true},
        {"actual", PhysicalType::kDouble},
        {"late", PhysicalType::kBoolean}};
    StatusOr<std::unique_ptr<parquet::FileWriter>> w =
        CreateParquet(dir, file->path, schema, options_.row_group_rows);
    if (!w.ok()) {
      NoteWriteError(w.status());
      lost_labels_.fetch_add(n);
      return;
    }
    file->writer = std::move(w).value();
    it = open_.emplace(key, std::move(file)).first;
  }
  OpenFile& f = *it->second;
  parquet::Column id = StringColumn(), route = StringColumn();
  parquet::Column row, version, ptime, ltime, actual, late;
  row.physical = parquet::PhysicalType::kInt32;
  version.physical = ptime.physical = ltime.physical = parquet::PhysicalType::kInt64;
  actual.physical = parquet::PhysicalType::kDouble;
  late.physical = parquet::PhysicalType::kBoolean;
  for (const LabelRecord* l : rows) {
    AppendString(id, l->request_id);
    AppendString(route, l->route);
    row.i32.push_back(static_cast<int32_t>(l->row));
    version.i64.push_back(l->version);
    ptime.i64.push_back(l->prediction_time_us);
    ltime.i64.push_back(l->label_time_us);
    actual.f64.push_back(l->actual);
    late.boolean.push_back(l->late ? 1 : 0);
  }
  for (parquet::Column* c : {&row, &version, &ptime, &ltime, &actual, &late}) c->num_rows = n;
  std::vector<parquet::Column> cols;
  cols.push_back(std::move(id));
  cols.push_back(std::move(row));
  cols.push_back(std::move(version));
  cols.push_back(std::move(route));
  cols.push_back(std::move(ptime));
  cols.push_back(std::move(ltime));
  cols.push_back(std::move(actual));
  cols.push_back(std::move(late));
  if (Status st = f.writer->Write(cols); !st.ok()) {
    write_errors_.fetch_add(1);
    lost_labels_.fetch_add(n + f.rows);
    logged_labels_.fetch_sub(f.rows);
    BIMRIDE_LOG(WARN) << "prediction log: labels: " << st.message();
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_error_ = st;
    }
    open_.erase(key);
    return;
  }
  f.rows += n;
  logged_labels_.fetch_add(n);
  if (f.rows >= options_.max_file_rows) CloseFile(key);
}

void PredictionLog::CloseFile(const std::string& key) {
  auto it = open_.find(key);
  if (it == open_.end()) return;
  std::unique_ptr<OpenFile> f = std::move(it->second);
  open_.erase(it);
  if (Status st = f->writer->Close(); !st.ok()) {
    write_errors_.fetch_add(1);
    (f->labels ? lost_labels_ : lost_rows_).fetch_add(f->rows);
    (f->labels ? logged_labels_ : logged_rows_).fetch_sub(f->rows);
    BIMRIDE_LOG(WARN) << "prediction log: " << st.message();
    std::lock_guard<std::mutex> lock(mu_);
    last_error_ = st;
    return;
  }
  files_closed_.fetch_add(1);
  EnforceBudget();
}

void PredictionLog::CloseIdleFiles(bool all) {
  const int64_t now = NowMs();
  std::vector<std::string> due;
  for (const auto& [key, f] : open_) {
    if (all || now - f->opened_ms >= options_.max_file_age_ms) due.push_back(key);
  }
  for (const std::string& key : due) CloseFile(key);
}

void PredictionLog::EnforceBudget() {
  std::vector<std::pair<fs::file_time_type, fs::path>> files;
  int64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(options_.dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec) || it->path().extension() != ".parquet") continue;
    const auto size = static_cast<int64_t>(it->file_size(ec));
    if (ec) continue;
    total += size;
    files.emplace_back(it->last_write_time(ec), it->path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& [when, path] : files) {
    if (total <= options_.disk_budget_bytes) break;
    const auto size = static_cast<int64_t>(fs::file_size(path, ec));
    if (fs::remove(path, ec)) {
      total -= size;
      deleted_files_.fetch_add(1);
      BIMRIDE_LOG(INFO) << "prediction log: deleted " << path.string() << " (disk budget "
                        << options_.disk_budget_bytes << " bytes)";
    }
  }
  bytes_on_disk_.store(total);
}

}  // namespace bimride::monitoring
