// Cross-check against an independent reader: hyparquet (npm) under node must see exactly the
// cells we see, for every green TLC file and for files our writer produces (every codec, page
// version and encoding, with nulls). Both sides print the canonical text of cell_text.h.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <sstream>

#include "common/file.h"
#include "parquet/cell_text.h"
#include "parquet/file_reader.h"
#include "parquet/file_writer.h"
#include "parquet/test_util.h"

namespace bimride::parquet {
namespace {

const std::string kPeers = std::string(BIMRIDE_SOURCE_DIR) + "/tests/peers";

// Runs the hyparquet dump of `path`; fails the test when node or the peer is missing.
bool PeerDump(const std::string& path, std::string* out) {
  if (!FileExists(kPeers + "/node_modules/hyparquet/package.json")) {
    ADD_FAILURE() << "hyparquet is not installed: run `npm ci` in " << kPeers
                  << " (scripts/setup does)";
    return false;
  }
  std::string cmd = "node '" + kPeers + "/parquet_dump.mjs' '" + path + "'";
  std::FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) {
    ADD_FAILURE() << "cannot run " << cmd;
    return false;
  }
  char buf[1 << 16];
  size_t n;
  out->clear();
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out->append(buf, n);
  int rc = ::pclose(p);
  if (rc != 0) {
    ADD_FAILURE() << cmd << " exited with status " << rc;
    return false;
  }
  return true;
}

void AppendRowsText(const std::vector<ColumnSchema>& schema, const std::vector<Column>& cols,
                    int64_t rows, std::string* out) {
  for (int64_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < cols.size(); ++c) {
      if (c) out->push_back('\t');
      *out += CellText(schema[c], cols[c], r);
    }
    out->push_back('\n');
  }
}

std::string Header(const std::vector<ColumnSchema>& schema) {
  std::string h;
  for (size_t c = 0; c < schema.size(); ++c) h += (c ? "\t" : "") + schema[c].name;
  return h + "\n";
}

bool OurDump(const std::string& path, std::string* out) {
  auto reader = FileReader::Open(path);
  if (!reader.ok()) {
    ADD_FAILURE() << reader.status().ToString();
    return false;
  }
  FileReader& r = **reader;
  *out = Header(r.schema());
  std::vector<int> all;
  for (int c = 0; c < r.num_columns(); ++c) all.push_back(c);
  RowGroupBatch batch;
  for (int rg = 0; rg < r.num_row_groups(); ++rg) {
    Status s = r.ReadRowGroup(rg, all, &batch);
    if (!s.ok()) {
      ADD_FAILURE() << s.ToString();
      return false;
    }
    AppendRowsText(r.schema(), batch.columns, batch.num_rows, out);
  }
  return true;
}

// Compares line by line and reports the first differing cell.
void ExpectSameText(const std::string& ours, const std::string& peer, const std::string& what) {
  std::istringstream a(ours), b(peer);
  std::string la, lb, header;
  int64_t line = 0;
  while (true) {
    bool ha = static_cast<bool>(std::getline(a, la));
    bool hb = static_cast<bool>(std::getline(b, lb));
    if (!ha && !hb) break;
    if (line == 0) header = la;
    if (ha != hb || la != lb) {
      std::istringstream ca(la), cb(lb), ch(header);
      std::string xa, xb, xh;
      int col = 0;
      while (std::getline(ch, xh, '\t')) {
        std::getline(ca, xa, '\t');
        std::getline(cb, xb, '\t');
        if (xa != xb) break;
        ++col;
      }
      FAIL() << what << ": first difference at data row " << line - 1 << ", column '" << xh
             << "': ours '" << xa << "', hyparquet '" << xb << "'"
             << (ha ? "" : " (ours ended)") << (hb ? "" : " (hyparquet ended)");
    }
    ++line;
  }
  EXPECT_GT(line, 1) << what;
}

TEST(HyparquetCrossCheckTest, AllGreenFilesMatchCellForCell) {
  const char* months[] = {"2021-01", "2021-02", "2021-03", "2022-01",
                          "2022-02", "2023-01", "2023-02", "2023-03"};
  for (const char* m : months) {
    const std::string path =
        std::string(BIMRIDE_DATA_DIR) + "/tlc_green/green_tripdata_" + m + ".parquet";
    ASSERT_TRUE(FileExists(path)) << "missing shared data file " << path;
    std::string ours, peer;
    ASSERT_TRUE(OurDump(path, &ours));
    ASSERT_TRUE(PeerDump(path, &peer));
    ExpectSameText(ours, peer, path);
  }
}

TEST(HyparquetCrossCheckTest, OurWriterOutputReadsIdenticallyInHyparquet) {
  const int64_t rows = 2500;
  const std::vector<ColumnSchema> schema = TestSchema();
  const std::vector<Column> data = TestColumns(rows, 99);
  std::string want = Header(schema);
  AppendRowsText(schema, data, rows, &want);
  for (const RoundTripCase& tc : RoundTripCases()) {
    SCOPED_TRACE(tc.label);
    const std::string path = ::testing::TempDir() + "/hyparquet_rt_" +
                             std::to_string(::getpid()) + "_" + tc.label + ".parquet";
    auto w = FileWriter::Open(path, schema, tc.options);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    ASSERT_TRUE((*w)->Write(data).ok());
    ASSERT_TRUE((*w)->Close().ok());
    std::string peer, ours;
    ASSERT_TRUE(PeerDump(path, &peer));
    ExpectSameText(want, peer, path + " (hyparquet vs source data)");
    ASSERT_TRUE(OurDump(path, &ours));
    ExpectSameText(want, ours, path + " (our reader vs source data)");
    std::remove(path.c_str());
  }
}

}  // namespace
}  // namespace bimride::parquet
