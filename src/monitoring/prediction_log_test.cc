#include "monitoring/prediction_log.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "common/file.h"
#include "parquet/cell_text.h"
#include "parquet/file_reader.h"

namespace bimride::monitoring {
namespace {
namespace fs = std::filesystem;

constexpr int64_t kDay1 = 1612949400000000;  // 2021-02-10 09:30 UTC, in µs

std::string TempDir(const std::string& name) {
  std::string dir = ::testing::TempDir() + "/prediction_log_test_" + name + "_" +
                    std::to_string(::getpid());
  fs::remove_all(dir);
  return dir;
}

PredictionBatch Batch(const std::string& id, int64_t version, int64_t rows, int64_t time_us) {
  PredictionBatch b;
  b.request_id = id;
  b.time_us = time_us;
  b.model = "eta";
  b.version = version;
  b.route = version == 1 ? "stable" : "canary";
  b.feature_names = {"pickup_zone", "hour"};
  b.output_names = {"minutes"};
  b.rows = rows;
  for (int64_t r = 0; r < rows; ++r) {
    b.raw.push_back("{\"pickup_zone\": " + std::to_string(70 + r) + "}");
    b.features.push_back(static_cast<float>(70 + r));
    b.features.push_back(8.5f);
    b.outputs.push_back(12.25f + static_cast<float>(r));
  }
  b.latency_us = 42;
  return b;
}

std::vector<std::string> Files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(fs::relative(e.path(), dir).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Every cell of a file as text (our reader), in src/parquet/cell_text.h's format.
std::string DumpOurs(const std::string& path) {
  auto reader = parquet::FileReader::Open(path);
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  if (!reader.ok()) return "";
  const auto& schema = (*reader)->schema();
  std::string out;
  for (size_t c = 0; c < schema.size(); ++c) out += (c ? "\t" : "") + schema[c].name;
  out += "\n";
  std::vector<int> all(schema.size());
  for (size_t c = 0; c < schema.size(); ++c) all[c] = static_cast<int>(c);
  for (int rg = 0; rg < (*reader)->num_row_groups(); ++rg) {
    auto batch = (*reader)->ReadRowGroup(rg, all);
    EXPECT_TRUE(batch.ok()) << batch.status().ToString();
    if (!batch.ok()) return "";
    for (int64_t r = 0; r < batch->num_rows; ++r) {
      for (size_t c = 0; c < schema.size(); ++c) {
        out += (c ? "\t" : "") + parquet::CellText(schema[c], batch->columns[c], r);
      }
      out += "\n";
    }
  }
  return out;
}

TEST(PredictionLogTest, WritesOneParquetFilePerModelVersionAndDayThatReadersAgreeOn) {
  const std::string dir = TempDir("layout");
  auto log = PredictionLog::Open({.dir = dir});
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_TRUE((*log)->Log(Batch("req-1", 1, 3, kDay1)));
  EXPECT_TRUE((*log)->Log(Batch("req-2", 2, 1, kDay1 + 1000)));
  EXPECT_TRUE((*log)->Log(Batch("req-3", 1, 2, kDay1 + 86400000000)));  // the next UTC day
  ASSERT_TRUE((*log)->Flush().ok());
  const std::vector<std::string> files = Files(dir);
  ASSERT_EQ(files.size(), 3u) << ::testing::PrintToString(files);
  EXPECT_EQ(files[0].rfind("eta/2021-02-10/v1-", 0), 0u) << files[0];
  EXPECT_EQ(files[1].rfind("eta/2021-02-10/v2-", 0), 0u) << files[1];
  EXPECT_EQ(files[2].rfind("eta/2021-02-11/v1-", 0), 0u) << files[2];
  EXPECT_EQ((*log)->stats().logged_rows, 6);
  EXPECT_EQ((*log)->stats().files_closed, 3);

  const std::string text = DumpOurs(dir + "/" + files[0]);
  EXPECT_EQ(text.substr(0, text.find('\n')),
            "request_id\ttime\tmodel\tversion\troute\trow\traw\tf_pickup_zone\tf_hour\ty_minutes"
            "\tlatency_us");
  auto reader = parquet::FileReader::Open(dir + "/" + files[0]);
  ASSERT_TRUE(reader.ok());
  auto batch = (*reader)->ReadRowGroup(0, {0, 1, 5, 6, 7, 9});
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  ASSERT_EQ(batch->num_rows, 3);
  EXPECT_EQ(batch->columns[0].ByteValue(2), "req-1");
  EXPECT_EQ(batch->columns[1].i64[2], kDay1);
  EXPECT_EQ(batch->columns[2].i32[2], 2);
  EXPECT_EQ(batch->columns[3].ByteValue(2), "{\"pickup_zone\": 72}");
  EXPECT_EQ(batch->columns[4].f32[2], 72.0f);
  EXPECT_EQ(batch->columns[5].f32[2], 14.25f);

  // An independent reader (hyparquet, tests/peers) sees exactly the same cells.
  const std::string peers = std::string(BIMRIDE_SOURCE_DIR) + "/tests/peers";
  ASSERT_TRUE(FileExists(peers + "/node_modules/hyparquet/package.json"))
      << "hyparquet is not installed (scripts/setup installs it)";
  for (const std::string& f : files) {
    const std::string cmd = "node '" + peers + "/parquet_dump.mjs' '" + dir + "/" + f + "'";
    std::FILE* p = ::popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string peer;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) peer.append(buf, n);
    EXPECT_EQ(::pclose(p), 0) << cmd;
    EXPECT_EQ(peer, DumpOurs(dir + "/" + f)) << f;
  }
  fs::remove_all(dir);
}

// Raw fields handed over unrendered whose texts are given: AppendJson appends them as they are.
struct TextRows : RawRows {
  explicit TextRows(std::vector<std::string> rows) : rows(std::move(rows)) {}
  void AppendJson(std::string* text, std::vector<int64_t>* ends) const override {
    for (const std::string& r : rows) {
      *text += r;
      ends->push_back(static_cast<int64_t>(text->size()));
    }
  }
  std::vector<std::string> rows;
};

// Unrendered raw fields that render more or fewer texts than the batch has rows still give one
// cell per row: the extra texts are cut, missing ones are empty; a batch with neither raw form
// gets empty cells. The rows after them keep their own texts.
TEST(PredictionLogTest, UnrenderedRawFieldsGiveExactlyOneCellPerRow) {
  const std::string dir = TempDir("raw_cells");
  auto log = PredictionLog::Open({.dir = dir});
  ASSERT_TRUE(log.ok());
  PredictionBatch fewer = Batch("fewer", 1, 3, kDay1);  // renders 1 text for 3 rows
  fewer.raw.clear();
  fewer.raw_rows = std::make_shared<const TextRows>(std::vector<std::string>{"{\"a\":1}"});
  PredictionBatch more = Batch("more", 1, 2, kDay1 + 1);  // renders 4 texts for 2 rows
  more.raw.clear();
  more.raw_rows = std::make_shared<const TextRows>(
      std::vector<std::string>{"{\"b\":1}", "{\"b\":2}", "{\"b\":3}", "{\"b\":4}"});
  PredictionBatch none = Batch("none", 1, 1, kDay1 + 2);
  none.raw.clear();
  PredictionBatch plain = Batch("plain", 1, 2, kDay1 + 3);
  for (PredictionBatch* b : {&fewer, &more, &none, &plain}) ASSERT_TRUE((*log)->Log(std::move(*b)));
  ASSERT_TRUE((*log)->Flush().ok());
  EXPECT_EQ((*log)->stats().logged_rows, 8);
  const std::vector<std::string> files = Files(dir);
  ASSERT_EQ(files.size(), 1u);
  auto reader = parquet::FileReader::Open(dir + "/" + files[0]);
  ASSERT_TRUE(reader.ok());
  auto batch = (*reader)->ReadRowGroup(0, {0, 6});
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  ASSERT_EQ(batch->num_rows, 8);
  const std::vector<std::pair<std::string, std::string>> want = {
      {"fewer", "{\"a\":1}"}, {"fewer", ""}, {"fewer", ""}, {"more", "{\"b\":1}"},
      {"more", "{\"b\":2}"}, {"none", ""}, {"plain", "{\"pickup_zone\": 70}"},
      {"plain", "{\"pickup_zone\": 71}"}};
  for (int64_t r = 0; r < 8; ++r) {
    EXPECT_EQ(batch->columns[0].ByteValue(r), want[static_cast<size_t>(r)].first) << r;
    EXPECT_EQ(batch->columns[1].ByteValue(r), want[static_cast<size_t>(r)].second) << r;
  }
  fs::remove_all(dir);
}

// The request side may hand raw fields over unrendered (RawRows, rendered on the writer) and
// the column names as one shared list; the writer takes the queue in runs. The files hold the
// same cells in the same row groups as batches rendered, named and written one at a time.
TEST(PredictionLogTest, HandedOverBatchesWrittenInOneRunGiveTheSameFileAsOneByOne) {
  const auto names = std::make_shared<const std::vector<std::string>>(
      std::vector<std::string>{"pickup_zone", "hour"});
  const std::string dir = TempDir("runs");
  std::vector<std::string> dumps;
  std::vector<int> row_groups;
  for (bool handed_over : {false, true}) {
    const std::string sub = dir + (handed_over ? "/run" : "/one");
    // row_group_rows 7: row groups cut inside batches, the same cut either way.
    auto log = PredictionLog::Open({.dir = sub, .row_group_rows = 7, .wake_rows = 1});
    ASSERT_TRUE(log.ok());
    int64_t logged = 0;
    for (int i = 0; i < 20; ++i) {
      PredictionBatch b = Batch("r" + std::to_string(i), 1, 1 + i % 3, kDay1 + i);
      logged += b.rows;
      if (handed_over) {
        b.raw_rows = std::make_shared<const TextRows>(std::move(b.raw));
        b.raw.clear();
        b.feature_names = ColumnNames(names);
      }
      ASSERT_TRUE((*log)->Log(std::move(b)));
      // One by one: each batch written (woken at once) before the next is queued.
      for (int k = 0; !handed_over && (*log)->stats().logged_rows < logged && k < 30000; ++k) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
    ASSERT_TRUE((*log)->Flush().ok());
    EXPECT_EQ((*log)->stats().logged_rows, 7 * 1 + 7 * 2 + 6 * 3);
    const std::vector<std::string> files = Files(sub);
    ASSERT_EQ(files.size(), 1u);
    dumps.push_back(DumpOurs(sub + "/" + files[0]));
    auto reader = parquet::FileReader::Open(sub + "/" + files[0]);
    ASSERT_TRUE(reader.ok());
    row_groups.push_back((*reader)->num_row_groups());
  }
  EXPECT_EQ(dumps[0], dumps[1]);
  EXPECT_NE(dumps[0].find("2037327d"), std::string::npos) << "raw rendered (\" 72}\" in hex)";
  EXPECT_EQ(row_groups[0], row_groups[1]);
  EXPECT_EQ(row_groups[0], 6) << "39 rows in groups of 7";
  fs::remove_all(dir);
}

TEST(PredictionLogTest, RollsFilesByRowsAndKeepsToItsDiskBudget) {
  const std::string dir = TempDir("roll");
  auto log = PredictionLog::Open({.dir = dir, .max_file_rows = 100});
  ASSERT_TRUE(log.ok());
  for (int i = 0; i < 25; ++i) (*log)->Log(Batch("r" + std::to_string(i), 1, 10, kDay1 + i));
  ASSERT_TRUE((*log)->Flush().ok());
  EXPECT_EQ(Files(dir).size(), 3u) << "100 + 100 + 50 rows";
  EXPECT_EQ((*log)->stats().logged_rows, 250);
  log->reset();

  // A budget of about two files: the oldest go.
  const int64_t one_file = static_cast<int64_t>(fs::file_size(dir + "/" + Files(dir)[0]));
  fs::remove_all(dir);
  auto small = PredictionLog::Open({.dir = dir, .max_file_rows = 100,
                                    .disk_budget_bytes = 2 * one_file + one_file / 2});
  ASSERT_TRUE(small.ok());
  for (int i = 0; i < 60; ++i) (*small)->Log(Batch("r" + std::to_string(i), 1, 10, kDay1 + i));
  ASSERT_TRUE((*small)->Flush().ok());
  const PredictionLogStats s = (*small)->stats();
  EXPECT_EQ(s.files_closed, 6);
  EXPECT_GE(s.deleted_files, 3);
  EXPECT_LE(s.bytes_on_disk, 2 * one_file + one_file / 2);
  EXPECT_LE(Files(dir).size(), 3u);
  fs::remove_all(dir);
}

// The writer thread is named, so `top -H`, perf and bench/monitoring/logging_cost.sh can tell
// its CPU from the request threads'.
int ThreadsNamed(const std::string& name) {
  int n = 0;
  for (const auto& t : fs::directory_iterator("/proc/self/task")) {
    StatusOr<std::string> comm = ReadFile(t.path().string() + "/comm");
    if (comm.ok() && *comm == name + "\n") ++n;
  }
  return n;
}

TEST(PredictionLogTest, ItsWriterThreadIsNamedLogWriter) {
  const int before = ThreadsNamed("log-writer");
  auto log = PredictionLog::Open({.dir = TempDir("named")});
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->Flush().ok());  // the writer has run
  EXPECT_EQ(ThreadsNamed("log-writer"), before + 1);
  log->reset();
  EXPECT_EQ(ThreadsNamed("log-writer"), before);
}

TEST(PredictionLogTest, AFullQueueDropsAndCountsInsteadOfBlockingOrGrowing) {
  const std::string dir = TempDir("queue");
  auto log = PredictionLog::Open({.dir = dir, .queue_rows = 50});
  ASSERT_TRUE(log.ok());
  EXPECT_FALSE((*log)->Log(Batch("too-big", 1, 51, kDay1))) << "more rows than the queue holds";
  int64_t accepted = 0;
  for (int i = 0; i < 2000; ++i) {
    if ((*log)->Log(Batch("r" + std::to_string(i), 1, 10, kDay1))) accepted += 10;
  }
  ASSERT_TRUE((*log)->Flush().ok());
  const PredictionLogStats s = (*log)->stats();
  EXPECT_EQ(s.logged_rows, accepted);
  EXPECT_EQ(s.logged_rows + s.dropped_rows, 20000 + 51) << "every row is written or counted";
  fs::remove_all(dir);
}

// Memory stays bounded when the writer cannot keep up (a stalled disk): here the writer thread
// is held inside its observer (what runs after each write) for as long as the test likes. The
// request side never waits for it: every Log() returns, at most queue_rows rows wait, the rest
// are dropped and counted; once the writer moves again everything accepted is written.
TEST(PredictionLogTest, AStalledWriterNeverBlocksTheRequestSideAndMemoryStaysBounded) {
  struct StallingObserver : PredictionObserver {
    std::mutex mu;
    std::condition_variable cv;
    bool entered = false, released = false;
    void Observe(const PredictionBatch&) override {
      std::unique_lock<std::mutex> lock(mu);
      entered = true;
      cv.notify_all();
      cv.wait(lock, [&] { return released; });
    }
  } stall;
  const std::string dir = TempDir("stalled");
  constexpr int64_t kQueue = 100;
  auto log = PredictionLog::Open({.dir = dir, .queue_rows = kQueue});
  ASSERT_TRUE(log.ok());
  (*log)->SetObserver(&stall);
  ASSERT_TRUE((*log)->Log(Batch("first", 1, 10, kDay1)));
  {
    std::unique_lock<std::mutex> lock(stall.mu);
    ASSERT_TRUE(stall.cv.wait_for(lock, std::chrono::seconds(30), [&] { return stall.entered; }))
        << "the writer took the first batch";
  }
  // The writer is stuck: 10 000 requests of 10 rows while it is.
  int64_t accepted = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 10000; ++i) {
    if ((*log)->Log(Batch("r" + std::to_string(i), 1, 10, kDay1))) accepted += 10;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LE(accepted, kQueue) << "no more than the queue holds waits for a stalled writer";
  EXPECT_EQ((*log)->stats().dropped_rows, 100000 - accepted) << "the rest dropped and counted";
  EXPECT_LT(seconds, 10.0) << "10 000 Log() calls against a stalled writer";
  {
    std::lock_guard<std::mutex> lock(stall.mu);
    stall.released = true;
  }
  stall.cv.notify_all();
  ASSERT_TRUE((*log)->Flush().ok());
  (*log)->SetObserver(nullptr);
  const PredictionLogStats st = (*log)->stats();
  EXPECT_EQ(st.logged_rows, 10 + accepted) << "everything accepted is written";
  EXPECT_EQ(st.logged_rows + st.dropped_rows, 10 + 100000);
  log->reset();
  fs::remove_all(dir);
}

TEST(PredictionLogTest, SamplesByRequestIdAndRefusesBadBatchesAndOptions) {
  const std::string dir = TempDir("sample");
  auto log = PredictionLog::Open({.dir = dir, .sample_rate = 0.25});
  ASSERT_TRUE(log.ok());
  int kept = 0;
  for (int i = 0; i < 4000; ++i) kept += (*log)->Log(Batch("id-" + std::to_string(i), 1, 1, kDay1));
  EXPECT_GT(kept, 800);
  EXPECT_LT(kept, 1200);
  const bool again = (*log)->Log(Batch("id-7", 1, 1, kDay1));
  EXPECT_EQ(again, (*log)->Log(Batch("id-7", 1, 1, kDay1))) << "the same request id, the same answer";
  EXPECT_EQ((*log)->stats().sampled_out, 4002 - kept - (again ? 2 : 0));

  PredictionBatch bad = Batch("bad", 1, 2, kDay1);
  bad.features.pop_back();
  auto all = PredictionLog::Open({.dir = dir + "/all"});
  ASSERT_TRUE(all.ok());
  EXPECT_FALSE((*all)->Log(bad));
  EXPECT_EQ((*all)->stats().dropped_rows, 2);

  EXPECT_FALSE(PredictionLog::Open({.dir = ""}).ok());
  EXPECT_FALSE(PredictionLog::Open({.dir = dir, .sample_rate = 0}).ok());
  EXPECT_FALSE(PredictionLog::Open({.dir = dir, .queue_rows = 0}).ok());
  log->reset();  // closes its files before the folder goes
  all->reset();
  fs::remove_all(dir);
}

TEST(PredictionLogTest, AnUnwritableFolderCountsLostRowsAndKeepsGoing) {
  const std::string dir = TempDir("unwritable");
  auto log = PredictionLog::Open({.dir = dir});
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/eta", "a file where the model's folder should be").ok());
  EXPECT_TRUE((*log)->Log(Batch("r1", 1, 4, kDay1)));
  Status flushed = (*log)->Flush();
  EXPECT_FALSE(flushed.ok());
  EXPECT_NE(flushed.message().find(dir + "/eta"), std::string::npos) << flushed.ToString();
  PredictionLogStats s = (*log)->stats();
  EXPECT_EQ(s.lost_rows, 4);
  EXPECT_EQ(s.write_errors, 1);
  // Other models still log.
  PredictionBatch demand = Batch("r2", 1, 2, kDay1);
  demand.model = "demand";
  EXPECT_TRUE((*log)->Log(demand));
  EXPECT_TRUE((*log)->Flush().ok());
  EXPECT_EQ((*log)->stats().logged_rows, 2);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace bimride::monitoring
