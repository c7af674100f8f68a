// Parquet file metadata (the subset of parquet.thrift this library uses) and its Thrift
// compact decoding/encoding. Fields we do not use are skipped when reading.
//
// Parse* functions never crash on bad bytes: they return a DataLoss status naming the problem
// (callers add the file name). Thread safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "parquet/types.h"

namespace bimride::parquet {

struct SchemaElement {
  std::optional<int32_t> type;             // PhysicalType; absent for groups
  int32_t type_length = 0;
  std::optional<int32_t> repetition_type;  // 0 REQUIRED, 1 OPTIONAL, 2 REPEATED
  std::string name;
  int32_t num_children = 0;
  std::optional<int32_t> converted_type;
  int32_t scale = 0;
  int32_t precision = 0;
  // LogicalType union, folded: which member (field id, 0 when absent) and its parameters.
  int16_t logical_type_id = 0;
  bool logical_utc = false;
  int32_t logical_unit = 0;  // 1 MILLIS, 2 MICROS, 3 NANOS
  int32_t logical_bit_width = 0;
  bool logical_signed = true;
  int32_t logical_scale = 0;
  int32_t logical_precision = 0;
};

struct ColumnMetaData {
  int32_t type = 0;
  std::vector<int32_t> encodings;
  std::vector<std::string> path_in_schema;
  int32_t codec = 0;
  int64_t num_values = 0;
  int64_t total_uncompressed_size = 0;
  int64_t total_compressed_size = 0;
  int64_t data_page_offset = 0;
  std::optional<int64_t> dictionary_page_offset;
  ColumnStatistics statistics;
};

struct ColumnChunkMeta {
  std::string file_path;  // non-empty: data lives in another file (unsupported)
  int64_t file_offset = 0;
  bool has_meta_data = false;
  ColumnMetaData meta_data;
};

struct RowGroupMeta {
  std::vector<ColumnChunkMeta> columns;
  int64_t total_byte_size = 0;
  int64_t num_rows = 0;
};

struct KeyValue {
  std::string key;
  std::optional<std::string> value;
};

struct FileMetaData {
  int32_t version = 0;
  std::vector<SchemaElement> schema;
  int64_t num_rows = 0;
  std::vector<RowGroupMeta> row_groups;
  std::vector<KeyValue> key_value_metadata;
  std::string created_by;
};

// Values match `PageType` in parquet.thrift.
enum class PageType : int32_t { kDataPage = 0, kIndexPage = 1, kDictionaryPage = 2, kDataPageV2 = 3 };

struct DataPageHeader {
  int32_t num_values = 0;
  int32_t encoding = 0;
  int32_t definition_level_encoding = 0;
  int32_t repetition_level_encoding = 0;
};

struct DictionaryPageHeader {
  int32_t num_values = 0;
  int32_t encoding = 0;
  bool is_sorted = false;
};

struct DataPageHeaderV2 {
  int32_t num_values = 0;
  int32_t num_nulls = 0;
  int32_t num_rows = 0;
  int32_t encoding = 0;
  int32_t definition_levels_byte_length = 0;
  int32_t repetition_levels_byte_length = 0;
  bool is_compressed = true;
};

struct PageHeader {
  int32_t type = 0;
  int32_t uncompressed_page_size = 0;
  int32_t compressed_page_size = 0;
  std::optional<int32_t> crc;
  std::optional<DataPageHeader> data_page;
  std::optional<DictionaryPageHeader> dictionary_page;
  std::optional<DataPageHeaderV2> data_page_v2;
};

// Decodes FileMetaData from the footer bytes.
StatusOr<FileMetaData> ParseFileMetaData(const uint8_t* data, size_t size);
// Decodes one PageHeader at the start of [data, data+size); *header_size gets its length.
Status ParsePageHeader(const uint8_t* data, size_t size, PageHeader* header, size_t* header_size);

// Appends the compact encoding of the value to *out.
void SerializeFileMetaData(const FileMetaData& meta, std::string* out);
void SerializePageHeader(const PageHeader& header, std::string* out);

}  // namespace bimride::parquet
