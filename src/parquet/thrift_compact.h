// A small Thrift compact-protocol codec, enough for Parquet's FileMetaData and PageHeader.
//
// CompactReader decodes from a borrowed byte range. Every read is bounds-checked, string/list
// lengths are checked against the bytes left, nesting is limited to kMaxDepth, and unknown
// fields are skipped, so any input yields either values or a Status (never a crash).
// CompactWriter appends to a std::string. Neither is thread-safe; use one per thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace bimride::parquet {

// Wire types of the compact protocol.
enum class CompactType : uint8_t {
  kStop = 0,
  kBoolTrue = 1,
  kBoolFalse = 2,
  kByte = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};

class CompactReader {
 public:
  static constexpr int kMaxDepth = 32;

  CompactReader(const uint8_t* data, size_t size) : pos_(data), end_(data + size), begin_(data) {}

  size_t position() const { return static_cast<size_t>(pos_ - begin_); }

  // Struct framing: call StructBegin, then ReadFieldHeader until it reports kStop, then StructEnd.
  Status StructBegin();
  void StructEnd();
  // Reads a field header; `type` kStop ends the struct. For booleans, the value is in the type.
  Status ReadFieldHeader(int16_t* field_id, CompactType* type);
  Status ReadListHeader(CompactType* elem_type, int32_t* size);

  Status ReadBool(CompactType field_type, bool* value);  // field_type from the field header
  Status ReadI8(int8_t* value);
  Status ReadI32(int32_t* value);
  Status ReadI64(int64_t* value);
  Status ReadBinary(std::string* value);
  Status ReadListBool(bool* value);  // a boolean inside a list: one byte

  // Skips a value of wire type `type` (including nested structs/lists/maps).
  Status Skip(CompactType type);

 private:
  Status ReadVarint(uint64_t* value);
  Status ReadByte(uint8_t* value);
  Status SkipDepth(CompactType type, int depth);

  const uint8_t* pos_;
  const uint8_t* end_;
  const uint8_t* begin_;
  int depth_ = 0;
  int16_t last_field_id_ = 0;
  int16_t field_id_stack_[kMaxDepth + 1] = {};
};

// Checks a field's wire type; a mismatch is corrupt metadata.
Status ExpectType(CompactType actual, CompactType expected, std::string_view what);

class CompactWriter {
 public:
  explicit CompactWriter(std::string* out) : out_(out) {}

  void StructBegin();
  void StructEnd();  // writes the stop byte
  void FieldHeader(int16_t field_id, CompactType type);
  void FieldBool(int16_t field_id, bool value);
  void FieldI8(int16_t field_id, int8_t value);
  void FieldI32(int16_t field_id, int32_t value);
  void FieldI64(int16_t field_id, int64_t value);
  void FieldBinary(int16_t field_id, std::string_view value);
  void ListHeader(CompactType elem_type, int32_t size);
  void I32(int32_t value);
  void I64(int64_t value);
  void Binary(std::string_view value);

 private:
  void Varint(uint64_t value);

  std::string* out_;
  int16_t last_field_id_ = 0;
  std::string stack_;  // saved last_field_id_ per nesting level (two bytes each)
};

}  // namespace bimride::parquet
