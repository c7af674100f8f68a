// FileWriter: writes flat Parquet files for our own outputs (simulator trips, feature tables,
// prediction logs) that any Parquet reader can read.
//
// Schema: a flat list of ColumnSchema, each REQUIRED or OPTIONAL, of physical type BOOLEAN,
// INT32, INT64, FLOAT, DOUBLE, BYTE_ARRAY or FIXED_LEN_BYTE_ARRAY, annotated as kNone, kString
// (UTF8), kTimestamp (any unit, isAdjustedToUTC as given), kDate or kInt.
// Pages: data page v1 (default) or v2; dictionary encoding for columns whose distinct values
// stay under the limits (else PLAIN for the whole chunk), PLAIN otherwise, or a per-column
// encoding override (DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY,
// BYTE_STREAM_SPLIT, PLAIN). Codecs: UNCOMPRESSED, SNAPPY, GZIP, ZSTD. Each column chunk carries
// statistics (min, max, null_count).
//
// Usage:
//   ASSIGN_OR_RETURN(auto w, FileWriter::Open("out.parquet", schema, options));
//   RETURN_IF_ERROR(w->Write(columns));  // any number of times; rows are buffered into
//   RETURN_IF_ERROR(w->Close());         // row groups of options.row_group_rows rows
//
// Columns passed to Write use the reader's Column layout (types.h); nulls via `validity`.
// The file is written to "<path>.tmp-<pid>" and renamed into place by Close, so readers never
// see a half-written file; a writer destroyed without Close removes the temporary file.
// Errors: bad input columns are InvalidArgument naming the column; I/O errors name the path.
// Thread safety: not thread-safe; one writer per file.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "parquet/metadata.h"
#include "parquet/types.h"

namespace bimride::parquet {

struct WriterOptions {
  Codec codec = Codec::kZstd;
  int compression_level = 0;  // 0: the codec's default
  int64_t row_group_rows = 1 << 20;
  int64_t page_rows = 1 << 16;
  bool data_page_v2 = false;
  bool dictionary = true;
  // A column chunk with more distinct values (or dictionary bytes) than this is written PLAIN.
  int64_t dictionary_max_values = 1 << 16;
  int64_t dictionary_max_bytes = 1 << 20;
  // Per-column value encoding instead of dictionary/PLAIN, by column name.
  std::map<std::string, Encoding> column_encodings;
  std::vector<std::pair<std::string, std::string>> key_value_metadata;
  std::string created_by = "bimride-ml parquet writer";
};

class FileWriter {
 public:
  static StatusOr<std::unique_ptr<FileWriter>> Open(const std::string& path,
                                                    std::vector<ColumnSchema> schema,
                                                    WriterOptions options = {});
  ~FileWriter();
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;

  // Appends rows: columns[i] holds the values of schema[i]; all columns have equal num_rows.
  Status Write(const std::vector<Column>& columns);
  // Flushes buffered rows, writes the footer and renames the file into place.
  Status Close();

  int64_t rows_written() const { return rows_written_; }
  const std::vector<ColumnSchema>& schema() const { return schema_; }

 private:
  FileWriter(std::string path, std::vector<ColumnSchema> schema, WriterOptions options);
  Status Validate(const std::vector<Column>& columns) const;
  Status FlushRowGroup(int64_t rows);
  Status WriteChunk(int column, int64_t rows, ColumnChunkMeta* meta);
  Status Append(const std::string& bytes);

  std::string path_;
  std::string tmp_path_;
  std::vector<ColumnSchema> schema_;
  WriterOptions options_;
  std::FILE* file_ = nullptr;
  int64_t offset_ = 0;
  int64_t rows_written_ = 0;
  std::vector<Column> pending_;  // buffered rows, one Column per schema column
  int64_t pending_rows_ = 0;
  FileMetaData meta_;
  bool closed_ = false;
};

// Appends rows [begin, begin + count) of `src` to `dst` (same physical type); the helper the
// writer uses to buffer rows, usable to slice or concatenate decoded columns.
void AppendRows(const Column& src, int64_t begin, int64_t count, Column* dst);

}  // namespace bimride::parquet
