// FileReader: reads flat Parquet files (our own and others', e.g. NYC TLC trip records).
//
// Supports physical types BOOLEAN, INT32, INT64, INT96 (as int64 nanoseconds), FLOAT, DOUBLE,
// BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY; data pages v1 and v2 and dictionary pages; encodings PLAIN,
// PLAIN_DICTIONARY / RLE_DICTIONARY, RLE (levels, booleans), DELTA_BINARY_PACKED,
// DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT; codecs UNCOMPRESSED, SNAPPY,
// GZIP, ZSTD. Nulls come from definition levels. Nested columns (struct, list, map; repeated
// fields) and other codecs (LZ4, LZ4_RAW, BROTLI, LZO) give an Unimplemented status naming the
// file and the column; encrypted files one naming the file. Checked cell for cell against an
// independent writer (arrow-rs) in independent_writer_test.cc.
//
// Usage:
//   ASSIGN_OR_RETURN(auto reader, FileReader::Open("green_tripdata_2023-01.parquet"));
//   ASSIGN_OR_RETURN(int fare, reader->ColumnIndex("fare_amount"));
//   for (int rg = 0; rg < reader->num_row_groups(); ++rg) {
//     ASSIGN_OR_RETURN(RowGroupBatch batch, reader->ReadRowGroup(rg, {fare}));
//     const Column& c = batch.columns[0];  // c.f64[i], c.IsNull(i), i < batch.num_rows
//   }
//
// Only the requested columns' pages are read and decoded (column projection); memory held is
// one row group of the requested columns plus the file mapping (the OS pages it in on demand).
//
// Errors: every failure is a Status whose message names the file, and where it applies the
// column, row group and page: "x.parquet: column 'fare_amount': row group 0: page 3: bad ZSTD
// frame". Corrupt input gives kDataLoss, unsupported features kUnimplemented, a missing file
// kNotFound. Malformed input never crashes the reader.
//
// Thread safety: a FileReader is not thread-safe (it reuses decode buffers); use one reader per
// thread. Readers of the same file in different threads are independent.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "parquet/metadata.h"
#include "parquet/types.h"

namespace bimride::parquet {

// Limits that keep hostile files from making the reader allocate without bound.
struct ReaderOptions {
  int64_t max_row_group_rows = int64_t{1} << 31;
  int64_t max_page_bytes = int64_t{1} << 30;  // a page's decompressed size
};

// The decoded columns of one row group, in the order they were requested.
struct RowGroupBatch {
  int64_t num_rows = 0;
  std::vector<int> column_indices;  // schema indices of `columns`
  std::vector<Column> columns;
};

class FileReader {
 public:
  // Maps the file read-only. `path` is used in error messages.
  static StatusOr<std::unique_ptr<FileReader>> Open(const std::string& path,
                                                    const ReaderOptions& options = {});
  // Reads a file held in memory (takes ownership of `contents`); `name` is used in messages.
  static StatusOr<std::unique_ptr<FileReader>> OpenBuffer(std::string name, std::string contents,
                                                          const ReaderOptions& options = {});
  ~FileReader();
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;

  const std::string& name() const { return name_; }
  const std::vector<ColumnSchema>& schema() const { return schema_; }
  int num_columns() const { return static_cast<int>(schema_.size()); }
  int64_t num_rows() const { return meta_.num_rows; }
  int num_row_groups() const { return static_cast<int>(meta_.row_groups.size()); }
  int64_t row_group_num_rows(int row_group) const;
  const std::string& created_by() const { return meta_.created_by; }
  const FileMetaData& metadata() const { return meta_; }

  // The schema index of the column called `name`, or NotFound naming the file and column.
  StatusOr<int> ColumnIndex(std::string_view name) const;

  // Statistics of one column chunk as stored in the file (fields absent when not written).
  // Precondition: valid indices.
  const ColumnStatistics& statistics(int row_group, int column) const;
  Codec codec(int row_group, int column) const;

  // Decodes the given columns of one row group. Indices must be valid schema indices.
  StatusOr<RowGroupBatch> ReadRowGroup(int row_group, const std::vector<int>& columns);
  // Same, reusing the vectors already in *batch (no reallocation for same-sized row groups).
  Status ReadRowGroup(int row_group, const std::vector<int>& columns, RowGroupBatch* batch);
  // Decodes one column chunk into *out (reusing its capacity).
  Status ReadColumnChunk(int row_group, int column, Column* out);

  // Reads and decompresses every page of the given column chunks without decoding values; the
  // floor any reader of this file pays. Returns the decompressed byte count.
  StatusOr<int64_t> DecompressOnly(int row_group, const std::vector<int>& columns);

 private:
  struct Scratch;
  FileReader(std::string name, ReaderOptions options);
  Status Init();
  Status ChunkError(int row_group, int column, int page, const Status& s) const;
  Status DecodeChunk(int row_group, int column, Column* out, int* page);

  std::string name_;
  ReaderOptions options_;
  std::string owned_;             // OpenBuffer contents
  void* map_ = nullptr;           // Open: the mapping
  size_t map_size_ = 0;
  const uint8_t* data_ = nullptr;  // the whole file
  size_t size_ = 0;
  size_t data_end_ = 0;  // where the footer starts; column chunks must end before it
  FileMetaData meta_;
  std::vector<ColumnSchema> schema_;
  std::unique_ptr<Scratch> scratch_;
};

}  // namespace bimride::parquet
