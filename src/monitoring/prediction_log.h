// PredictionLog: every served prediction (or a sample), written off the request path to Parquet
// with our writer, for drift, live accuracy and replay (#13).
//
// Layout: <dir>/<model>/<YYYY-MM-DD>/v<version>-<first time µs>-<seq>.parquet, one file per
// model version and UTC day (a version fixes the feature and output columns), rolled when it
// reaches `max_file_rows` rows or `max_file_age_ms`, and closed (renamed into place) by the
// writer; readers never see a half-written file. Columns, one row per predicted row:
//   request_id STRING, time TIMESTAMP(µs, UTC), model STRING, version INT64, route STRING
//   (stable / canary / a version / shadow …), row INT32 (index in its request), raw STRING (the
//   row's raw request fields as a JSON object; empty for feature-vector requests),
//   f_<feature> FLOAT… (the features the model saw), y_<output> FLOAT…, latency_us FLOAT.
//
// Labels (#13 item 2) are written beside the predictions by the same writer thread, under the
// same rolling, partitioning and budget rules: <dir>/<model>/<YYYY-MM-DD>/labels-<first label
// time µs>-<seq>.parquet, the day being the labelled prediction's (so a window's predictions and
// its labels share a folder), one row per label joined to a logged prediction:
//   request_id STRING, row INT32, version INT64 (the prediction's), route STRING,
//   prediction_time TIMESTAMP(µs, UTC), label_time TIMESTAMP(µs, UTC), actual DOUBLE,
//   late BOOLEAN (its window had closed).
// A label that never met its prediction (pushed out of the monitor's waiting set) is written
// under model "_unmatched" on the day it arrived, version 0. The live monitor hands them over
// (LiveMonitor::SetLabelSink); labelled_rows.h reads the log joined with them.
//
// Cost bounds: Log never blocks and never grows memory past the queue: a full queue drops the
// batch and counts it (`dropped_rows`). The request thread only hands over what it has: the
// version's column names are shared (one pointer, not a copy per request), raw fields are
// rendered to JSON on the writer thread (RawRows), and the writer is woken once per
// `wake_rows` queued rows or every `wake_interval_ms` (not per request); it takes the whole
// queue at once, writes each run of batches of one file with one Parquet append and shows the
// observer the whole run (PredictionObserver::ObserveAll). The writer's batching changes no
// byte of the files: rows reach the Parquet writer in the same order and row groups are cut at
// `row_group_rows` as before. At most `queue_rows` wait plus the set the writer is writing.
// A failing disk (ENOSPC, EIO) drops what it cannot write,
// counts it (`write_errors`, `lost_rows`) and keeps serving. A disk budget: after each file is
// closed, the oldest files are deleted until the log fits (`deleted_files`).
//
// Thread safety: Log and stats() from any thread; one writer thread inside.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "parquet/types.h"

namespace bimride::monitoring {

struct PredictionLogOptions {
  std::string dir;
  double sample_rate = 1.0;            // fraction of requests logged (by request id hash)
  int64_t queue_rows = 1 << 18;        // rows waiting for the writer, at most
  int64_t max_file_rows = 1 << 20;
  int64_t max_file_age_ms = 10 * 60 * 1000;
  int64_t disk_budget_bytes = int64_t{1} << 30;
  int64_t row_group_rows = 1 << 16;    // rows the writer buffers per open file before a flush
  // The writer wakes when this many rows are queued (at most queue_rows / 2) or after
  // wake_interval_ms, whichever is first; Flush wakes it at once.
  int64_t wake_rows = 4096;
  int64_t wake_interval_ms = 50;
};

// Column names shared by every batch of one model version: a pointer to the version's own list
// (no copy per request); built from a list for tests and callers that have no shared one.
class ColumnNames {
 public:
  ColumnNames() = default;
  ColumnNames(std::initializer_list<std::string> names)
      : names_(std::make_shared<const std::vector<std::string>>(names)) {}
  ColumnNames(std::vector<std::string> names)  // NOLINT: a list converts
      : names_(std::make_shared<const std::vector<std::string>>(std::move(names))) {}
  explicit ColumnNames(std::shared_ptr<const std::vector<std::string>> names)
      : names_(std::move(names)) {}
  const std::vector<std::string>& get() const { return names_ ? *names_ : Empty(); }
  size_t size() const { return get().size(); }
  bool empty() const { return get().empty(); }
  const std::string& operator[](size_t i) const { return get()[i]; }
  auto begin() const { return get().begin(); }
  auto end() const { return get().end(); }
  // Equal lists (the same pointer is the fast case).
  bool operator==(const ColumnNames& o) const { return names_ == o.names_ || get() == o.get(); }
  bool operator==(const std::vector<std::string>& o) const { return get() == o; }
  bool same_list(const ColumnNames& o) const { return names_ == o.names_; }

 private:
  static const std::vector<std::string>& Empty() {
    static const std::vector<std::string> empty;
    return empty;
  }
  std::shared_ptr<const std::vector<std::string>> names_;
};

// A request's raw fields as the request had them, handed to the log without rendering: the
// writer thread renders them, one JSON object text per row, straight into the `raw` column.
class RawRows {
 public:
  virtual ~RawRows() = default;
  // Appends each row's JSON object text to `text` and, after each row, the end of its text in
  // `text` to `ends` (a Parquet byte-array column's layout).
  virtual void AppendJson(std::string* text, std::vector<int64_t>* ends) const = 0;
};

// One request's rows, as served by one model version.
struct PredictionBatch {
  std::string request_id;
  int64_t time_us = 0;  // Unix epoch, UTC
  std::string model;
  int64_t version = 0;
  std::string route;
  // The version's (its columns); empty: named by position ("0", "1", …) by the writer thread.
  ColumnNames feature_names;
  ColumnNames output_names;
  int64_t rows = 0;
  std::vector<std::string> raw;   // per row (JSON object text), or empty
  // Or the raw fields unrendered (when `raw` is empty): the writer renders them into the file's
  // `raw` column (observers see them unrendered).
  std::shared_ptr<const RawRows> raw_rows;
  std::vector<float> features;    // rows × feature_names.size()
  std::vector<float> outputs;     // rows × output_names.size()
  float latency_us = 0;
};

// One label as persisted (see the layout above).
struct LabelRecord {
  std::string model;  // empty: unmatched (written under "_unmatched")
  int64_t version = 0;
  std::string route;
  std::string request_id;
  int64_t row = 0;
  double actual = 0;
  int64_t prediction_time_us = 0;  // 0 for unmatched labels
  int64_t label_time_us = 0;
  bool late = false;
};

// The model folder unmatched labels go to.
inline constexpr char kUnmatchedLabelsModel[] = "_unmatched";

// Sees every batch the log writes, on the log's writer thread (off the request path), after it
// was written (feature columns named). The live monitor (live_monitor.h) is one.
class PredictionObserver {
 public:
  virtual ~PredictionObserver() = default;
  virtual void Observe(const PredictionBatch& batch) = 0;
  // What the writer took from the queue at once, in log order (an observer that gains from
  // seeing many rows at once, e.g. one model call for all of them, overrides it).
  virtual void ObserveAll(const std::vector<PredictionBatch>& batches) {
    for (const PredictionBatch& b : batches) Observe(b);
  }
};

struct PredictionLogStats {
  int64_t logged_rows = 0;    // written to closed or open files
  int64_t sampled_out = 0;    // requests skipped by the sample rate
  int64_t dropped_rows = 0;   // queue full
  int64_t lost_rows = 0;      // write errors
  int64_t write_errors = 0;
  int64_t files_closed = 0;
  int64_t deleted_files = 0;  // for the disk budget
  int64_t bytes_on_disk = 0;  // after the last budget check
  int64_t logged_labels = 0;   // label rows written
  int64_t dropped_labels = 0;  // queue full
  int64_t lost_labels = 0;     // write errors
};

// The day folder of a time: its UTC date, YYYY-MM-DD (the log's partitions).
std::string LogDay(int64_t time_us);

class PredictionLog {
 public:
  // InvalidArgument for bad options; the directory is created.
  static StatusOr<std::unique_ptr<PredictionLog>> Open(PredictionLogOptions options);
  ~PredictionLog();  // closes every open file (Flush) and stops the writer
  PredictionLog(const PredictionLog&) = delete;
  PredictionLog& operator=(const PredictionLog&) = delete;

  // Whether a request is in the sample (by a hash of its id; counted in `sampled_out` when not).
  // Lets a caller skip gathering a batch it would not log.
  bool Sample(const std::string& request_id);
  // Queues the batch for the writer: false when sampled out or dropped (queue full). Never
  // blocks on I/O. InvalidArgument-shaped batches (sizes that disagree) are dropped and counted.
  bool Log(PredictionBatch batch);
  // Queues labels for the writer (they share the queue's row bound with predictions): false
  // when dropped (queue full; counted in `dropped_labels`). Never blocks on I/O.
  bool LogLabels(std::vector<LabelRecord> labels);
  // Waits until everything queued so far is written and every open file closed.
  Status Flush();
  PredictionLogStats stats() const;
  // Batches written from now on are shown to `observer` (null: none), which must outlive the
  // log or be replaced first.
  void SetObserver(PredictionObserver* observer) { observer_.store(observer); }

 private:
  explicit PredictionLog(PredictionLogOptions options);
  struct OpenFile;
  void WriterLoop();
  // Writes the batches in order (names positional features): each run of consecutive batches
  // bound for one open file is one Parquet append (WriteRun, which renders unrendered raw rows).
  void WriteAll(std::vector<PredictionBatch>& batches);
  // The open file for a batch (opened when needed), or null after counting its rows lost.
  OpenFile* FileFor(const PredictionBatch& batch, std::string* key);
  void WriteRun(const std::string& key, OpenFile& file, const PredictionBatch* batches, size_t n,
                int64_t rows);
  void WriteLabels(const std::vector<LabelRecord>& labels);
  void WriteLabelGroup(const std::string& model, const std::string& day,
                       const std::vector<const LabelRecord*>& rows);
  void NoteWriteError(const Status& error);  // counted, logged, kept for Flush()
  void CloseFile(const std::string& key);
  void CloseIdleFiles(bool all);
  void EnforceBudget();

  const PredictionLogOptions options_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable drained_;
  std::vector<PredictionBatch> queue_;
  std::deque<std::vector<LabelRecord>> label_queue_;
  int64_t queued_rows_ = 0;             // predictions' and labels' rows waiting
  int64_t queued_prediction_rows_ = 0;  // of them, in queue_
  const int64_t wake_rows_;
  bool stop_ = false;
  int64_t flush_requests_ = 0;
  int64_t flushes_done_ = 0;
  bool busy_ = false;
  Status last_error_;

  std::map<std::string, std::unique_ptr<OpenFile>> open_;  // writer thread only
  int64_t sequence_ = 0;
  // WriteRun's columns, reused from run to run (writer thread only); freed after a run of more
  // than 2 × wake_rows_, so a burst does not keep its buffers.
  std::vector<parquet::Column> run_columns_;

  std::atomic<int64_t> logged_rows_{0}, sampled_out_{0}, dropped_rows_{0}, lost_rows_{0},
      write_errors_{0}, files_closed_{0}, deleted_files_{0}, bytes_on_disk_{0}, logged_labels_{0},
      dropped_labels_{0}, lost_labels_{0};
  std::atomic<PredictionObserver*> observer_{nullptr};
  std::thread writer_;
};

}  // namespace bimride::monitoring
