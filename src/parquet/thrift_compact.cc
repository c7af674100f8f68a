#include "parquet/thrift_compact.h"

#include <cstring>

namespace bimride::parquet {
namespace {

Status Corrupt(std::string_view what) {
  return DataLossError("bad Thrift metadata: " + std::string(what));
}

int64_t ZigZagDecode(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }
uint64_t ZigZagEncode(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}

}  // namespace

Status ExpectType(CompactType actual, CompactType expected, std::string_view what) {
  if (actual == expected) return OkStatus();
  return Corrupt(std::string(what) + " has wire type " + std::to_string(static_cast<int>(actual)) +
                 ", expected " + std::to_string(static_cast<int>(expected)));
}

Status CompactReader::ReadByte(uint8_t* value) {
  if (pos_ >= end_) return Corrupt("truncated");
  *value = *pos_++;
  return OkStatus();
}

Status CompactReader::ReadVarint(uint64_t* value) {
  uint64_t result = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (pos_ >= end_) return Corrupt("truncated varint");
    uint8_t b = *pos_++;
    if (shift == 63 && (b & 0x7e) != 0) return Corrupt("varint overflows 64 bits");
    result |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *value = result;
      return OkStatus();
    }
  }
  return Corrupt("varint longer than 10 bytes");
}

Status CompactReader::StructBegin() {
  if (depth_ >= kMaxDepth) return Corrupt("nesting deeper than " + std::to_string(kMaxDepth));
  field_id_stack_[depth_++] = last_field_id_;
  last_field_id_ = 0;
  return OkStatus();
}

void CompactReader::StructEnd() {
  if (depth_ > 0) last_field_id_ = field_id_stack_[--depth_];
}

Status CompactReader::ReadFieldHeader(int16_t* field_id, CompactType* type) {
  uint8_t b = 0;
  RETURN_IF_ERROR(ReadByte(&b));
  uint8_t t = b & 0x0f;
  if (t == 0) {
    *type = CompactType::kStop;
    *field_id = 0;
    return OkStatus();
  }
  if (t > static_cast<uint8_t>(CompactType::kStruct)) {
    return Corrupt("unknown field type " + std::to_string(t));
  }
  *type = static_cast<CompactType>(t);
  uint8_t delta = b >> 4;
  if (delta != 0) {
    int32_t id = last_field_id_ + delta;
    if (id > INT16_MAX) return Corrupt("field id overflow");
    *field_id = static_cast<int16_t>(id);
  } else {
    uint64_t raw;
    RETURN_IF_ERROR(ReadVarint(&raw));
    int64_t id = ZigZagDecode(raw);
    if (id < INT16_MIN || id > INT16_MAX) return Corrupt("field id out of range");
    *field_id = static_cast<int16_t>(id);
  }
  last_field_id_ = *field_id;
  return OkStatus();
}

Status CompactReader::ReadListHeader(CompactType* elem_type, int32_t* size) {
  uint8_t b = 0;
  RETURN_IF_ERROR(ReadByte(&b));
  uint8_t t = b & 0x0f;
  if (t == 0 || t > static_cast<uint8_t>(CompactType::kStruct)) {
    return Corrupt("unknown list element type " + std::to_string(t));
  }
  *elem_type = static_cast<CompactType>(t);
  uint64_t n = b >> 4;
  if (n == 15) RETURN_IF_ERROR(ReadVarint(&n));
  // Every element takes at least one byte, so a size beyond the bytes left is corrupt.
  if (n > static_cast<uint64_t>(end_ - pos_)) {
    return Corrupt("list of " + std::to_string(n) + " elements exceeds the " +
                   std::to_string(end_ - pos_) + " bytes left");
  }
  *size = static_cast<int32_t>(n);
  return OkStatus();
}

Status CompactReader::ReadBool(CompactType field_type, bool* value) {
  if (field_type == CompactType::kBoolTrue) {
    *value = true;
  } else if (field_type == CompactType::kBoolFalse) {
    *value = false;
  } else {
    return Corrupt("boolean field has wire type " + std::to_string(static_cast<int>(field_type)));
  }
  return OkStatus();
}

Status CompactReader::ReadListBool(bool* value) {
  uint8_t b = 0;
  RETURN_IF_ERROR(ReadByte(&b));
  *value = (b == 1);
  return OkStatus();
}

Status CompactReader::ReadI8(int8_t* value) {
  uint8_t b = 0;
  RETURN_IF_ERROR(ReadByte(&b));
  *value = static_cast<int8_t>(b);
  return OkStatus();
}

Status CompactReader::ReadI32(int32_t* value) {
  uint64_t raw;
  RETURN_IF_ERROR(ReadVarint(&raw));
  int64_t v = ZigZagDecode(raw);
  if (v < INT32_MIN || v > INT32_MAX) return Corrupt("i32 out of range");
  *value = static_cast<int32_t>(v);
  return OkStatus();
}

Status CompactReader::ReadI64(int64_t* value) {
  uint64_t raw;
  RETURN_IF_ERROR(ReadVarint(&raw));
  *value = ZigZagDecode(raw);
  return OkStatus();
}

Status CompactReader::ReadBinary(std::string* value) {
  uint64_t n;
  RETURN_IF_ERROR(ReadVarint(&n));
  if (n > static_cast<uint64_t>(end_ - pos_)) {
    return Corrupt("string of " + std::to_string(n) + " bytes exceeds the " +
                   std::to_string(end_ - pos_) + " bytes left");
  }
  value->assign(reinterpret_cast<const char*>(pos_), n);
  pos_ += n;
  return OkStatus();
}

Status CompactReader::Skip(CompactType type) { return SkipDepth(type, depth_); }

Status CompactReader::SkipDepth(CompactType type, int depth) {
  if (depth >= kMaxDepth) return Corrupt("nesting deeper than " + std::to_string(kMaxDepth));
  switch (type) {
    case CompactType::kBoolTrue:
    case CompactType::kBoolFalse:
      return OkStatus();  // value is in the field header
    case CompactType::kByte: {
      uint8_t b = 0;
      return ReadByte(&b);
    }
    case CompactType::kI16:
    case CompactType::kI32:
    case CompactType::kI64: {
      uint64_t v;
      return ReadVarint(&v);
    }
    case CompactType::kDouble:
      if (end_ - pos_ < 8) return Corrupt("truncated double");
      pos_ += 8;
      return OkStatus();
    case CompactType::kBinary: {
      uint64_t n;
      RETURN_IF_ERROR(ReadVarint(&n));
      if (n > static_cast<uint64_t>(end_ - pos_)) return Corrupt("truncated binary");
      pos_ += n;
      return OkStatus();
    }
    case CompactType::kList:
    case CompactType::kSet: {
      CompactType elem;
      int32_t n;
      RETURN_IF_ERROR(ReadListHeader(&elem, &n));
      for (int32_t i = 0; i < n; ++i) {
        if (elem == CompactType::kBoolTrue || elem == CompactType::kBoolFalse) {
          uint8_t b = 0;
          RETURN_IF_ERROR(ReadByte(&b));
        } else {
          RETURN_IF_ERROR(SkipDepth(elem, depth + 1));
        }
      }
      return OkStatus();
    }
    case CompactType::kMap: {
      uint64_t n;
      RETURN_IF_ERROR(ReadVarint(&n));
      if (n == 0) return OkStatus();
      if (n > static_cast<uint64_t>(end_ - pos_)) return Corrupt("map size exceeds the input");
      uint8_t kv = 0;
      RETURN_IF_ERROR(ReadByte(&kv));
      auto kt = static_cast<CompactType>(kv >> 4), vt = static_cast<CompactType>(kv & 0x0f);
      if ((kv >> 4) == 0 || (kv >> 4) > 12 || (kv & 0x0f) == 0 || (kv & 0x0f) > 12) {
        return Corrupt("bad map element types");
      }
      for (uint64_t i = 0; i < n; ++i) {
        for (CompactType t : {kt, vt}) {
          if (t == CompactType::kBoolTrue || t == CompactType::kBoolFalse) {
            uint8_t b = 0;
            RETURN_IF_ERROR(ReadByte(&b));
          } else {
            RETURN_IF_ERROR(SkipDepth(t, depth + 1));
          }
        }
      }
      return OkStatus();
    }
    case CompactType::kStruct: {
      // Field ids are irrelevant when skipping, but the delta encoding must be followed.
      for (;;) {
        uint8_t b = 0;
        RETURN_IF_ERROR(ReadByte(&b));
        uint8_t t = b & 0x0f;
        if (t == 0) return OkStatus();
        if (t > 12) return Corrupt("unknown field type " + std::to_string(t));
        if ((b >> 4) == 0) {
          uint64_t id;
          RETURN_IF_ERROR(ReadVarint(&id));
        }
        RETURN_IF_ERROR(SkipDepth(static_cast<CompactType>(t), depth + 1));
      }
    }
    case CompactType::kStop:
      break;
  }
  return Corrupt("cannot skip wire type " + std::to_string(static_cast<int>(type)));
}

// ---- writer ----

void CompactWriter::Varint(uint64_t v) {
  while (v >= 0x80) {
    out_->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out_->push_back(static_cast<char>(v));
}

void CompactWriter::StructBegin() {
  stack_.append(reinterpret_cast<const char*>(&last_field_id_), sizeof(last_field_id_));
  last_field_id_ = 0;
}

void CompactWriter::StructEnd() {
  out_->push_back(0);
  if (stack_.size() >= sizeof(last_field_id_)) {
    std::memcpy(&last_field_id_, stack_.data() + stack_.size() - sizeof(last_field_id_),
                sizeof(last_field_id_));
    stack_.resize(stack_.size() - sizeof(last_field_id_));
  }
}

void CompactWriter::FieldHeader(int16_t field_id, CompactType type) {
  int delta = field_id - last_field_id_;
  if (delta > 0 && delta <= 15) {
    out_->push_back(static_cast<char>((delta << 4) | static_cast<uint8_t>(type)));
  } else {
    out_->push_back(static_cast<char>(type));
    Varint(ZigZagEncode(field_id));
  }
  last_field_id_ = field_id;
}

void CompactWriter::FieldBool(int16_t field_id, bool value) {
  FieldHeader(field_id, value ? CompactType::kBoolTrue : CompactType::kBoolFalse);
}
void CompactWriter::FieldI8(int16_t field_id, int8_t value) {
  FieldHeader(field_id, CompactType::kByte);
  out_->push_back(static_cast<char>(value));
}
void CompactWriter::FieldI32(int16_t field_id, int32_t value) {
  FieldHeader(field_id, CompactType::kI32);
  I32(value);
}
void CompactWriter::FieldI64(int16_t field_id, int64_t value) {
  FieldHeader(field_id, CompactType::kI64);
  I64(value);
}
void CompactWriter::FieldBinary(int16_t field_id, std::string_view value) {
  FieldHeader(field_id, CompactType::kBinary);
  Binary(value);
}
void CompactWriter::ListHeader(CompactType elem_type, int32_t size) {
  if (size < 15) {
    out_->push_back(static_cast<char>((size << 4) | static_cast<uint8_t>(elem_type)));
  } else {
    out_->push_back(static_cast<char>(0xf0 | static_cast<uint8_t>(elem_type)));
    Varint(static_cast<uint64_t>(size));
  }
}
void CompactWriter::I32(int32_t value) { Varint(ZigZagEncode(value)); }
void CompactWriter::I64(int64_t value) { Varint(ZigZagEncode(value)); }
void CompactWriter::Binary(std::string_view value) {
  Varint(value.size());
  out_->append(value);
}

}  // namespace bimride::parquet
