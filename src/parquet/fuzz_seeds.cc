// Writes small Parquet files (every codec, page version and encoding, with nulls) into a folder,
// as a seed corpus for the reader fuzzer. Usage: parquet_fuzz_seeds OUT_DIR
#include <iostream>

#include "common/file.h"
#include "parquet/file_writer.h"
#include "parquet/test_util.h"

int main(int argc, char** argv) {
  using namespace bimride::parquet;
  if (argc != 2) {
    std::cerr << "usage: parquet_fuzz_seeds OUT_DIR\n";
    return 2;
  }
  const std::string dir = argv[1];
  bimride::Status s = bimride::MakeDirs(dir);
  if (!s.ok()) {
    std::cerr << s.ToString() << "\n";
    return 1;
  }
  int n = 0;
  for (RoundTripCase tc : RoundTripCases()) {
    tc.options.page_rows = 16;
    tc.options.row_group_rows = 40;
    auto w = FileWriter::Open(dir + "/seed_" + tc.label + ".parquet", TestSchema(), tc.options);
    if (w.ok()) s = (*w)->Write(TestColumns(60, 17));
    if (w.ok() && s.ok()) s = (*w)->Close();
    if (!w.ok() || !s.ok()) {
      std::cerr << (w.ok() ? s : w.status()).ToString() << "\n";
      return 1;
    }
    ++n;
  }
  std::cout << "wrote " << n << " seed files to " << dir << "\n";
  return 0;
}
