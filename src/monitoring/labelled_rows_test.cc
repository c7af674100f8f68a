// Labels persisted beside the prediction log and read back joined with it (#13 item 8).
#include "monitoring/labelled_rows.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "common/file.h"
#include "monitoring/live_monitor.h"
#include "monitoring/prediction_log.h"
#include "parquet/file_reader.h"
#include "parquet/file_writer.h"

namespace bimride::monitoring {
namespace {
namespace fs = std::filesystem;

constexpr int64_t kT = 1612949400000000;  // 2021-02-10 09:30 UTC, in µs
constexpr int64_t kSecond = 1000000;

std::string TempDir(const std::string& name) {
  std::string dir =
      ::testing::TempDir() + "/labelled_rows_test_" + name + "_" + std::to_string(::getpid());
  fs::remove_all(dir);
  return dir;
}

PredictionBatch Batch(const std::string& id, int64_t version, float output, int64_t time_us,
                      const std::string& route = "stable") {
  PredictionBatch b;
  b.request_id = id;
  b.time_us = time_us;
  b.model = "eta";
  b.version = version;
  b.route = route;
  b.feature_names = {"x"};
  b.output_names = {"eta_minutes"};
  b.rows = 1;
  b.raw = {"{\"id\": \"" + id + "\"}"};
  b.features = {1.0f};
  b.outputs = {output};
  return b;
}

// A log with a monitor whose labels go to the log, as serving::Server wires them.
struct LoggedMonitor {
  std::unique_ptr<PredictionLog> log;
  std::unique_ptr<LiveMonitor> monitor;
  LoggedMonitor(const std::string& dir, LiveMonitorOptions mo = {}) {
    PredictionLogOptions o;
    o.dir = dir;
    log = std::move(PredictionLog::Open(o)).value();
    monitor = std::move(LiveMonitor::Create(mo)).value();
    log->SetObserver(monitor.get());
    monitor->SetLabelSink([l = log.get()](std::vector<LabelRecord> r) { l->LogLabels(std::move(r)); });
  }
  ~LoggedMonitor() { log->SetObserver(nullptr); }
};

std::vector<std::string> LabelFiles(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.path().filename().string().rfind("labels-", 0) == 0) {
      out.push_back(fs::relative(e.path(), dir).string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(LabelledRows, LabelsArePersistedBesideTheLogAndReadBackJoinedToTheirRequests) {
  const std::string dir = TempDir("joined");
  {
    LoggedMonitor lm(dir, {.window_rows = 2});
    // A label that comes before its prediction (waits, then joins), one after, one never (a
    // prediction stays unlabelled), a late one (its window closed), and a shadowed request.
    lm.monitor->AddFeedback({{"trip-1", 0, 11.5}});
    lm.log->Log(Batch("trip-1", 1, 10, kT));
    lm.log->Log(Batch("trip-2", 1, 20, kT + kSecond));
    lm.log->Log(Batch("trip-3", 1, 30, kT + 2 * kSecond));
    lm.log->Log(Batch("trip-4", 1, 40, kT + 3 * kSecond));
    lm.log->Log(Batch("trip-4", 2, 41, kT + 3 * kSecond, "shadow"));
    ASSERT_TRUE(lm.log->Flush().ok());
    FeedbackOutcome f = lm.monitor->AddFeedback({{"trip-2", 0, 19}, {"trip-4", 0, 44}});
    EXPECT_EQ(f.joined, 2);
    // Version 1's windows (2 rows each) have both closed; the shadow's (1 row) has not.
    EXPECT_EQ(f.late, 2);
    ASSERT_TRUE(lm.log->Flush().ok());
    PredictionLogStats s = lm.log->stats();
    EXPECT_EQ(s.logged_labels, 4);  // trip-1, trip-2, and trip-4 for version 1 and its shadow
    EXPECT_EQ(s.dropped_labels, 0);
  }
  // Same partitioning as the predictions: model, then the prediction's UTC day.
  const std::vector<std::string> files = LabelFiles(dir);
  ASSERT_FALSE(files.empty());
  for (const std::string& f : files) EXPECT_EQ(f.rfind("eta/2021-02-10/labels-", 0), 0u) << f;
  // Readable by our reader (what `bimride data inspect` uses), every label with its facts.
  int64_t rows = 0, late = 0;
  for (const std::string& f : files) {
    auto r = parquet::FileReader::Open(dir + "/" + f);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const int c = (*r)->ColumnIndex("late").value();
    for (int rg = 0; rg < (*r)->num_row_groups(); ++rg) {
      auto b = (*r)->ReadRowGroup(rg, {c});
      ASSERT_TRUE(b.ok());
      rows += b->num_rows;
      for (uint8_t v : b->columns[0].boolean) late += v;
    }
  }
  EXPECT_EQ(rows, 4);
  EXPECT_EQ(late, 2);

  auto got = ReadLabelledRows(dir, "eta", kT, kT + 10 * kSecond);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->predicted_rows, 4);  // trip-4 once: the answering version's row
  EXPECT_EQ(got->unlabelled_rows, 1);  // trip-3
  ASSERT_EQ(got->rows.size(), 3u);
  EXPECT_EQ(got->rows[0].request_id, "trip-1");
  EXPECT_EQ(got->rows[0].actual, 11.5);
  EXPECT_EQ(got->rows[0].predicted, 10.0f);
  EXPECT_EQ(got->rows[0].raw, "{\"id\": \"trip-1\"}");
  EXPECT_EQ(got->rows[0].time_us, kT);
  EXPECT_EQ(got->rows[1].request_id, "trip-2");
  EXPECT_EQ(got->rows[1].actual, 19);
  EXPECT_EQ(got->rows[2].request_id, "trip-4");
  EXPECT_EQ(got->rows[2].version, 1);
  EXPECT_EQ(got->rows[2].route, "stable");
  EXPECT_EQ(got->rows[2].actual, 44);
  // The time range cuts by log time, both ends included.
  got = ReadLabelledRows(dir, "eta", kT + kSecond, kT + kSecond);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->rows.size(), 1u);
  EXPECT_EQ(got->rows[0].request_id, "trip-2");
  got = ReadLabelledRows(dir, "eta", kT + 86400 * kSecond, kT + 87000 * kSecond);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->predicted_rows, 0);
  fs::remove_all(dir);
}

TEST(LabelledRows, LabelsThatNeverMeetTheirPredictionAreWrittenAsUnmatched) {
  const std::string dir = TempDir("unmatched");
  {
    LoggedMonitor lm(dir, {.max_waiting_labels = 1});
    lm.monitor->AddFeedback({{"ghost-1", 3, 7}, {"ghost-2", 0, 8}});  // ghost-1 pushed out
    ASSERT_TRUE(lm.log->Flush().ok());
    EXPECT_EQ(lm.monitor->counters().unmatched, 1);
    EXPECT_EQ(lm.log->stats().logged_labels, 1);
  }
  const std::vector<std::string> files = LabelFiles(dir);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].rfind(std::string(kUnmatchedLabelsModel) + "/", 0), 0u) << files[0];
  auto r = parquet::FileReader::Open(dir + "/" + files[0]);
  ASSERT_TRUE(r.ok());
  auto b = (*r)->ReadRowGroup(0, {(*r)->ColumnIndex("request_id").value(),
                                  (*r)->ColumnIndex("row").value(),
                                  (*r)->ColumnIndex("actual").value()});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->columns[0].ByteValue(0), "ghost-1");
  EXPECT_EQ(b->columns[1].i32[0], 3);
  EXPECT_EQ(b->columns[2].f64[0], 7.0);
  fs::remove_all(dir);
}

TEST(LabelledRows, BadArgumentsAndCorruptFilesAreErrorsNamingTheFile) {
  const std::string dir = TempDir("bad");
  EXPECT_EQ(ReadLabelledRows(dir, "eta", kT, kT).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ReadLabelledRows(dir, "../x", kT, kT).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadLabelledRows(dir, "eta", kT, kT - 1).status().code(),
            StatusCode::kInvalidArgument);
  {
    LoggedMonitor lm(dir);
    lm.log->Log(Batch("trip-1", 1, 10, kT));
    ASSERT_TRUE(lm.log->Flush().ok());
    lm.monitor->AddFeedback({{"trip-1", 0, 12}});
    ASSERT_TRUE(lm.log->Flush().ok());
  }
  ASSERT_TRUE(ReadLabelledRows(dir, "eta", kT, kT).ok());
  // A truncated label file.
  const std::string day = dir + "/eta/2021-02-10";
  const std::string label_file = day + "/" + fs::path(LabelFiles(dir)[0]).filename().string();
  std::string bytes = ReadFile(label_file).value();
  ASSERT_TRUE(WriteFileAtomic(label_file, bytes.substr(0, bytes.size() / 2)).ok());
  auto got = ReadLabelledRows(dir, "eta", kT, kT);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find(label_file), std::string::npos) << got.status().message();
  fs::remove(label_file);
  // A prediction file of garbage.
  const std::string junk = day + "/v9-1-1.parquet";
  ASSERT_TRUE(WriteFileAtomic(junk, "this is not parquet").ok());
  got = ReadLabelledRows(dir, "eta", kT, kT);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find(junk), std::string::npos) << got.status().message();
  fs::remove(junk);
  // A label file without the 'actual' column: the file and the column are named.
  const std::string other = day + "/labels-1-1.parquet";
  {
    auto w = parquet::FileWriter::Open(
        other, {{"request_id", parquet::PhysicalType::kByteArray, parquet::LogicalKind::kString},
                {"row", parquet::PhysicalType::kInt32}});
    ASSERT_TRUE(w.ok());
    parquet::Column id, row;
    id.physical = parquet::PhysicalType::kByteArray;
    id.offsets = {0, 6};
    id.bytes = "trip-1";
    id.num_rows = 1;
    row.physical = parquet::PhysicalType::kInt32;
    row.i32 = {0};
    row.num_rows = 1;
    ASSERT_TRUE((*w)->Write({id, row}).ok());
    ASSERT_TRUE((*w)->Close().ok());
  }
  got = ReadLabelledRows(dir, "eta", kT, kT);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find(other), std::string::npos) << got.status().message();
  EXPECT_NE(got.status().message().find("actual"), std::string::npos) << got.status().message();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace bimride::monitoring
