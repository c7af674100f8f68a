// libFuzzer target: open any bytes as a Parquet file from memory and decode every column of
// every row group (and the decompress-only path). Any crash, sanitizer report, leak or hang is
// a bug; errors are expected and ignored. Built with -DBIMRIDE_FUZZ=ON (clang); run scripts/fuzz.
#include <cstddef>
#include <cstdint>
#include <string>

#include "parquet/cell_text.h"
#include "parquet/file_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bimride::parquet;
  // Small limits keep each input fast and the memory bounded (one column at a time).
  ReaderOptions options;
  options.max_row_group_rows = 1 << 16;
  options.max_page_bytes = 1 << 22;
  auto reader = FileReader::OpenBuffer(
      "fuzz.parquet", std::string(reinterpret_cast<const char*>(data), size), options);
  if (!reader.ok()) return 0;
  FileReader& r = **reader;
  Column column;
  for (int rg = 0; rg < r.num_row_groups(); ++rg) {
    for (int c = 0; c < r.num_columns(); ++c) {
      if (!r.ReadColumnChunk(rg, c, &column).ok()) continue;
      // Touch the decoded values the way callers do.
      for (int64_t i = 0; i < column.num_rows && i < 64; ++i) {
        (void)CellText(r.schema()[c], column, i);
      }
      (void)r.statistics(rg, c);
    }
    std::vector<int> one = {0};
    if (r.num_columns() > 0) (void)r.DecompressOnly(rg, one);
  }
  return 0;
}
