#include "parquet/file_writer.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <set>
#include <string_view>
#include <functional>

#include "common/hash.h"
#include "parquet/compression.h"
#include "parquet/encoding.h"

namespace bimride::parquet {
namespace {

const void* ValueData(const Column& c) {
  switch (c.physical) {
    case PhysicalType::kInt32:
      return c.i32.data();
    case PhysicalType::kInt64:
      return c.i64.data();
    case PhysicalType::kFloat:
      return c.f32.data();
    case PhysicalType::kDouble:
      return c.f64.data();
    case PhysicalType::kBoolean:
      return c.boolean.data();
    default:
      return nullptr;
  }
}

size_t ValueCount(const Column& c) {
  switch (c.physical) {
    case PhysicalType::kBoolean:
      return c.boolean.size();
    case PhysicalType::kInt32:
      return c.i32.size();
    case PhysicalType::kInt64:
    case PhysicalType::kInt96:
      return c.i64.size();
    case PhysicalType::kFloat:
      return c.f32.size();
    case PhysicalType::kDouble:
      return c.f64.size();
    case PhysicalType::kByteArray:
    case PhysicalType::kFixedLenByteArray:
      return c.offsets.empty() ? 0 : c.offsets.size() - 1;
  }
  return 0;
}

bool IsBytes(PhysicalType t) {
  return t == PhysicalType::kByteArray || t == PhysicalType::kFixedLenByteArray;
}

// A chunk's dictionary: value → id, ids in first-seen order. Open addressing (linear probing,
// at most half full) over slots of (id + 1, hash tag); a value is compared through the row
// that first held it. One probe of a small flat table per value, where a node-based map paid a
// node per distinct value and a pointer chase per lookup (the prediction log writes a chunk of
// 40 columns × 65,536 rows at a time).
class DictionaryIndex {
 public:
  // The id of row `row`'s value, whose hash is `hash`; `same(first_row)` says whether the value
  // of `first_row` equals it. `*added` when the value is new (its id is the next one).
  template <typename Same>
  uint32_t FindOrAdd(uint64_t hash, int64_t row, Same same, bool* added) {
    if (2 * (first_rows_.size() + 1) > slots_.size()) Grow();
    const uint32_t tag = static_cast<uint32_t>(hash >> 32);
    size_t i = tag & (slots_.size() - 1);
    for (; slots_[i].id_plus_one != 0; i = (i + 1) & (slots_.size() - 1)) {
      const uint32_t id = slots_[i].id_plus_one - 1;
      if (slots_[i].tag == tag && same(first_rows_[id])) {
        *added = false;
        return id;
      }
    }
    const auto id = static_cast<uint32_t>(first_rows_.size());
    first_rows_.push_back(row);
    tags_.push_back(tag);
    slots_[i] = Slot{id + 1, tag};
    *added = true;
    return id;
  }

 private:
  struct Slot {
    uint32_t id_plus_one = 0;  // 0: empty
    uint32_t tag = 0;          // the hash's high half; its low bits are the home slot
  };
  void Grow() {
    std::vector<Slot> bigger(slots_.empty() ? 256 : 2 * slots_.size());
    const size_t mask = bigger.size() - 1;
    for (size_t id = 0; id < first_rows_.size(); ++id) {
      size_t i = tags_[id] & mask;
      while (bigger[i].id_plus_one != 0) i = (i + 1) & mask;
      bigger[i] = Slot{static_cast<uint32_t>(id) + 1, tags_[id]};
    }
    slots_ = std::move(bigger);
  }
  std::vector<Slot> slots_;
  std::vector<int64_t> first_rows_;  // per id
  std::vector<uint32_t> tags_;       // per id
};

void PutU32(uint32_t v, std::string* out) { out->append(reinterpret_cast<const char*>(&v), 4); }

// PLAIN encoding of one value of the column (for dictionaries and statistics).
void AppendPlainValue(const Column& c, int64_t row, std::string* out) {
  if (IsBytes(c.physical)) {
    std::string_view v = c.ByteValue(row);
    if (c.physical == PhysicalType::kByteArray) PutU32(static_cast<uint32_t>(v.size()), out);
    out->append(v);
  } else if (c.physical == PhysicalType::kBoolean) {
    out->push_back(static_cast<char>(c.boolean[row] ? 1 : 0));
  } else {
    const size_t w = FixedValueWidth(c.physical);
    out->append(reinterpret_cast<const char*>(ValueData(c)) + row * w, w);
  }
}

// Statistics (min/max over non-null values, null count) of rows [0, rows).
ColumnStatistics ComputeStatistics(const Column& c, int64_t rows) {
  ColumnStatistics st;
  int64_t nulls = 0;
  int64_t min_row = -1, max_row = -1;
  auto valid = [&](int64_t i) { return c.validity.empty() || c.validity[i] != 0; };
  for (int64_t i = 0; i < rows; ++i) {
    if (!valid(i)) {
      ++nulls;
      continue;
    }
    switch (c.physical) {
      case PhysicalType::kBoolean:
        if (min_row < 0 || c.boolean[i] < c.boolean[min_row]) min_row = i;
        if (max_row < 0 || c.boolean[i] > c.boolean[max_row]) max_row = i;
        break;
      case PhysicalType::kInt32:
        if (min_row < 0 || c.i32[i] < c.i32[min_row]) min_row = i;
        if (max_row < 0 || c.i32[i] > c.i32[max_row]) max_row = i;
        break;
      case PhysicalType::kInt64:
        if (min_row < 0 || c.i64[i] < c.i64[min_row]) min_row = i;
        if (max_row < 0 || c.i64[i] > c.i64[max_row]) max_row = i;
        break;
      case PhysicalType::kFloat:
        if (std::isnan(c.f32[i])) break;
        if (min_row < 0 || c.f32[i] < c.f32[min_row]) min_row = i;
        if (max_row < 0 || c.f32[i] > c.f32[max_row]) max_row = i;
        break;
      case PhysicalType::kDouble:
        if (std::isnan(c.f64[i])) break;
        if (min_row < 0 || c.f64[i] < c.f64[min_row]) min_row = i;
        if (max_row < 0 || c.f64[i] > c.f64[max_row]) max_row = i;
        break;
      case PhysicalType::kByteArray:
      case PhysicalType::kFixedLenByteArray:
        if (min_row < 0 || c.ByteValue(i) < c.ByteValue(min_row)) min_row = i;
        if (max_row < 0 || c.ByteValue(i) > c.ByteValue(max_row)) max_row = i;
        break;
      case PhysicalType::kInt96:
        break;
    }
  }
  st.null_count = nulls;
  if (min_row >= 0) {
    std::string mn, mx;
    if (IsBytes(c.physical)) {
      mn = std::string(c.ByteValue(min_row));
      mx = std::string(c.ByteValue(max_row));
    } else {
      AppendPlainValue(c, min_row, &mn);
      AppendPlainValue(c, max_row, &mx);
    }
    // The spec asks for -0.0 as a zero minimum and +0.0 as a zero maximum.
    if (c.physical == PhysicalType::kDouble) {
      if (c.f64[min_row] == 0.0) {
        double z = -0.0;
        mn.assign(reinterpret_cast<const char*>(&z), 8);
      }
      if (c.f64[max_row] == 0.0) {
        double z = 0.0;
        mx.assign(reinterpret_cast<const char*>(&z), 8);
      }
    } else if (c.physical == PhysicalType::kFloat) {
      if (c.f32[min_row] == 0.0f) {
        float z = -0.0f;
        mn.assign(reinterpret_cast<const char*>(&z), 4);
      }
      if (c.f32[max_row] == 0.0f) {
        float z = 0.0f;
        mx.assign(reinterpret_cast<const char*>(&z), 4);
      }
    }
    st.min = std::move(mn);
    st.max = std::move(mx);
  }
  return st;
}

// Fills the SchemaElement annotations for a column.
Status Annotate(const ColumnSchema& c, SchemaElement* e) {
  switch (c.logical) {
    case LogicalKind::kNone:
      return OkStatus();
    case LogicalKind::kString:
      if (c.physical != PhysicalType::kByteArray) break;
      e->logical_type_id = 1;
      e->converted_type = 0;  // UTF8
      return OkStatus();
    case LogicalKind::kDate:
      if (c.physical != PhysicalType::kInt32) break;
      e->logical_type_id = 6;
      e->converted_type = 6;
      return OkStatus();
    case LogicalKind::kTimestamp:
      if (c.physical != PhysicalType::kInt64 || c.time_unit == TimeUnit::kNone) break;
      e->logical_type_id = 8;
      e->logical_utc = c.utc_adjusted;
      e->logical_unit = static_cast<int32_t>(c.time_unit);  // 1 millis, 2 micros, 3 nanos
      // Legacy converted types for older readers, as other writers do (none exists for nanos).
      if (c.time_unit == TimeUnit::kMillis) e->converted_type = 9;
      if (c.time_unit == TimeUnit::kMicros) e->converted_type = 10;
      return OkStatus();
    case LogicalKind::kInt: {
      int w = c.int_bit_width;
      if (w != 8 && w != 16 && w != 32 && w != 64) break;
      if ((w == 64) != (c.physical == PhysicalType::kInt64)) break;
      if (c.physical != PhysicalType::kInt32 && c.physical != PhysicalType::kInt64) break;
      e->logical_type_id = 10;
      e->logical_bit_width = w;
      e->logical_signed = c.int_signed;
      int idx = w == 8 ? 0 : w == 16 ? 1 : w == 32 ? 2 : 3;
      e->converted_type = (c.int_signed ? 15 : 11) + idx;
      return OkStatus();
    }
    default:
      break;
  }
  return UnimplementedError("column '" + c.name + "': the writer cannot annotate " +
                            std::string(PhysicalTypeName(c.physical)) + " with logical kind " +
                            std::to_string(static_cast<int>(c.logical)));
}

bool EncodingValidFor(Encoding e, PhysicalType t) {
  switch (e) {
    case Encoding::kPlain:
      return true;
    case Encoding::kDeltaBinaryPacked:
      return t == PhysicalType::kInt32 || t == PhysicalType::kInt64;
    case Encoding::kDeltaLengthByteArray:
      return t == PhysicalType::kByteArray;
    case Encoding::kDeltaByteArray:
      return IsBytes(t);
    case Encoding::kByteStreamSplit:
      return FixedValueWidth(t) != 0 || t == PhysicalType::kFixedLenByteArray;
    default:
      return false;
  }
}

// Encodes the non-null values among rows [begin, end) with a non-dictionary encoding.
void EncodeValues(Encoding enc, const Column& c, int32_t type_length, int64_t begin, int64_t end,
                  std::string* out) {
  auto valid = [&](int64_t i) { return c.validity.empty() || c.validity[i] != 0; };
  std::vector<int64_t> rows;
  rows.reserve(end - begin);
  for (int64_t i = begin; i < end; ++i) {
    if (valid(i)) rows.push_back(i);
  }
  const int64_t n = static_cast<int64_t>(rows.size());
  switch (enc) {
    case Encoding::kPlain:
      if (c.physical == PhysicalType::kBoolean) {
        std::string bits((n + 7) / 8, '\0');
        for (int64_t k = 0; k < n; ++k) {
          if (c.boolean[rows[k]]) bits[k / 8] = static_cast<char>(bits[k / 8] | (1 << (k % 8)));
        }
        out->append(bits);
      } else {
        for (int64_t r : rows) AppendPlainValue(c, r, out);
      }
      return;
    case Encoding::kDeltaBinaryPacked: {
      std::vector<int64_t> v(n);
      for (int64_t k = 0; k < n; ++k) {
        v[k] = c.physical == PhysicalType::kInt32 ? c.i32[rows[k]] : c.i64[rows[k]];
      }
      EncodeDeltaBinaryPacked(v.data(), n, out);
      return;
    }
    case Encoding::kDeltaLengthByteArray: {
      std::vector<int64_t> lens(n);
      for (int64_t k = 0; k < n; ++k) lens[k] = static_cast<int64_t>(c.ByteValue(rows[k]).size());
      EncodeDeltaBinaryPacked(lens.data(), n, out);
      for (int64_t r : rows) out->append(c.ByteValue(r));
      return;
    }
    case Encoding::kDeltaByteArray: {
      std::vector<int64_t> prefix(n), suffix(n);
      std::string_view prev;
      for (int64_t k = 0; k < n; ++k) {
        std::string_view v = c.ByteValue(rows[k]);
        size_t p = 0;
        while (p < v.size() && p < prev.size() && v[p] == prev[p]) ++p;
        prefix[k] = static_cast<int64_t>(p);
        suffix[k] = static_cast<int64_t>(v.size() - p);
        prev = v;
      }
      EncodeDeltaBinaryPacked(prefix.data(), n, out);
      EncodeDeltaBinaryPacked(suffix.data(), n, out);
      for (int64_t k = 0; k < n; ++k) out->append(c.ByteValue(rows[k]).substr(prefix[k]));
      return;
    }
    case Encoding::kByteStreamSplit: {
      const size_t w = FixedValueWidth(c.physical) ? FixedValueWidth(c.physical) : type_length;
      std::string plain;
      for (int64_t r : rows) AppendPlainValue(c, r, &plain);
      size_t base = out->size();
      out->resize(base + plain.size());
      for (int64_t k = 0; k < n; ++k) {
        for (size_t b = 0; b < w; ++b) (*out)[base + b * n + k] = plain[k * w + b];
      }
      return;
    }
    default:
      return;
  }
}

}  // namespace

void AppendRows(const Column& src, int64_t begin, int64_t count, Column* dst) {
  dst->physical = src.physical;
  const int64_t old_rows = dst->num_rows;
  if (!src.validity.empty() || !dst->validity.empty()) {
    if (dst->validity.empty()) dst->validity.assign(old_rows, 1);
    if (src.validity.empty()) {
      dst->validity.insert(dst->validity.end(), count, 1);
    } else {
      dst->validity.insert(dst->validity.end(), src.validity.begin() + begin,
                           src.validity.begin() + begin + count);
      for (int64_t i = begin; i < begin + count; ++i) dst->null_count += src.validity[i] == 0;
    }
  }
  switch (src.physical) {
    case PhysicalType::kBoolean:
      dst->boolean.insert(dst->boolean.end(), src.boolean.begin() + begin,
                          src.boolean.begin() + begin + count);
      break;
    case PhysicalType::kInt32:
      dst->i32.insert(dst->i32.end(), src.i32.begin() + begin, src.i32.begin() + begin + count);
      break;
    case PhysicalType::kInt64:
    case PhysicalType::kInt96:
      dst->i64.insert(dst->i64.end(), src.i64.begin() + begin, src.i64.begin() + begin + count);
      break;
    case PhysicalType::kFloat:
      dst->f32.insert(dst->f32.end(), src.f32.begin() + begin, src.f32.begin() + begin + count);
      break;
    case PhysicalType::kDouble:
      dst->f64.insert(dst->f64.end(), src.f64.begin() + begin, src.f64.begin() + begin + count);
      break;
    case PhysicalType::kByteArray:
    case PhysicalType::kFixedLenByteArray: {
      if (dst->offsets.empty()) dst->offsets.push_back(static_cast<int64_t>(dst->bytes.size()));
      const int64_t from = src.offsets[begin], to = src.offsets[begin + count];
      const int64_t shift = static_cast<int64_t>(dst->bytes.size()) - from;
      dst->bytes.append(src.bytes, from, to - from);
      for (int64_t i = begin + 1; i <= begin + count; ++i) {
        dst->offsets.push_back(src.offsets[i] + shift);
      }
      break;
    }
  }
  dst->num_rows = old_rows + count;
}

// Removes the first `rows` rows of `c` in place (its vectors keep their capacity).
void DropFrontRows(int64_t rows, Column* c) {
  auto drop = [rows](auto& v) {
    if (!v.empty()) v.erase(v.begin(), v.begin() + rows);
  };
  drop(c->boolean);
  drop(c->i32);
  drop(c->i64);
  drop(c->f32);
  drop(c->f64);
  if (!c->validity.empty()) {
    drop(c->validity);
    c->null_count = std::count(c->validity.begin(), c->validity.end(), 0);
  }
  if (!c->offsets.empty()) {
    const int64_t base = c->offsets[rows];
    c->bytes.erase(0, static_cast<size_t>(base));
    drop(c->offsets);
    for (int64_t& o : c->offsets) o -= base;
  }
  c->num_rows -= rows;
}

FileWriter::FileWriter(std::string path, std::vector<ColumnSchema> schema, WriterOptions options)
    : path_(std::move(path)), schema_(std::move(schema)), options_(std::move(options)) {}

FileWriter::~FileWriter() {
  if (file_ != nullptr) {
    std::fclose(file_);
    ::unlink(tmp_path_.c_str());
  }
}

StatusOr<std::unique_ptr<FileWriter>> FileWriter::Open(const std::string& path,
                                                       std::vector<ColumnSchema> schema,
                                                       WriterOptions options) {
  if (schema.empty()) return InvalidArgumentError(path + ": a Parquet file needs a column");
  if (!CodecSupported(options.codec)) {
    return UnimplementedError(path + ": unsupported codec " +
                              std::string(CodecName(options.codec)));
  }
  if (options.row_group_rows <= 0 || options.page_rows <= 0) {
    return InvalidArgumentError(path + ": row_group_rows and page_rows must be positive");
  }
  std::unique_ptr<FileWriter> w(new FileWriter(path, std::move(schema), std::move(options)));
  std::set<std::string> names;
  SchemaElement root;
  root.name = "schema";
  root.num_children = static_cast<int32_t>(w->schema_.size());
  w->meta_.schema.push_back(root);
  for (const ColumnSchema& c : w->schema_) {
    if (c.name.empty() || !names.insert(c.name).second) {
      return InvalidArgumentError(path + ": column names must be non-empty and unique ('" +
                                  c.name + "')");
    }
    if (c.physical == PhysicalType::kInt96) {
      return UnimplementedError(path + ": column '" + c.name + "': the writer does not write INT96");
    }
    if (c.physical == PhysicalType::kFixedLenByteArray && c.type_length <= 0) {
      return InvalidArgumentError(path + ": column '" + c.name + "': type_length must be > 0");
    }
    SchemaElement e;
    e.type = static_cast<int32_t>(c.physical);
    e.type_length = c.type_length;
    e.repetition_type = c.optional ? 1 : 0;
    e.name = c.name;
    Status s = Annotate(c, &e);
    if (!s.ok()) return s.WithContext(path);
    w->meta_.schema.push_back(std::move(e));
  }
  for (const auto& entry : w->options_.column_encodings) {
    const std::string& name = entry.first;
    const Encoding enc = entry.second;
    auto it = std::find_if(w->schema_.begin(), w->schema_.end(),
                           [&](const ColumnSchema& c) { return c.name == name; });
    if (it == w->schema_.end()) {
      return InvalidArgumentError(path + ": encoding given for unknown column '" + name + "'");
    }
    if (!EncodingValidFor(enc, it->physical)) {
      return InvalidArgumentError(path + ": column '" + name + "': encoding " +
                                  std::string(EncodingName(enc)) + " is not valid for " +
                                  std::string(PhysicalTypeName(it->physical)));
    }
  }
  w->meta_.version = 2;
  w->meta_.created_by = w->options_.created_by;
  for (const auto& [k, v] : w->options_.key_value_metadata) w->meta_.key_value_metadata.push_back({k, v});
  w->pending_.resize(w->schema_.size());
  for (size_t i = 0; i < w->schema_.size(); ++i) w->pending_[i].physical = w->schema_[i].physical;

  w->tmp_path_ = path + ".tmp-" + std::to_string(::getpid());
  w->file_ = std::fopen(w->tmp_path_.c_str(), "wb");
  if (w->file_ == nullptr) return ErrnoError("open", w->tmp_path_, errno);
  RETURN_IF_ERROR(w->Append("PAR1"));
  return w;
}

Status FileWriter::Append(const std::string& bytes) {
  if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
    return ErrnoError("write", tmp_path_, errno);
  }
  offset_ += static_cast<int64_t>(bytes.size());
  return OkStatus();
}

Status FileWriter::Validate(const std::vector<Column>& columns) const {
  if (columns.size() != schema_.size()) {
    return InvalidArgumentError(path_ + ": Write got " + std::to_string(columns.size()) +
                                " columns for a schema of " + std::to_string(schema_.size()));
  }
  const int64_t rows = columns[0].num_rows;
  for (size_t i = 0; i < columns.size(); ++i) {
    const Column& c = columns[i];
    const ColumnSchema& s = schema_[i];
    std::string where = path_ + ": column '" + s.name + "': ";
    if (c.physical != s.physical) {
      return InvalidArgumentError(where + "holds " + std::string(PhysicalTypeName(c.physical)) +
                                  ", schema says " + std::string(PhysicalTypeName(s.physical)));
    }
    if (c.num_rows != rows || c.num_rows < 0) {
      return InvalidArgumentError(where + std::to_string(c.num_rows) + " rows, expected " +
                                  std::to_string(rows));
    }
    if (ValueCount(c) != static_cast<size_t>(rows)) {
      return InvalidArgumentError(where + std::to_string(ValueCount(c)) + " values for " +
                                  std::to_string(rows) + " rows");
    }
    if (!c.validity.empty()) {
      if (c.validity.size() != static_cast<size_t>(rows)) {
        return InvalidArgumentError(where + "validity has the wrong size");
      }
      if (!s.optional && std::find(c.validity.begin(), c.validity.end(), 0) != c.validity.end()) {
        return InvalidArgumentError(where + "null in a REQUIRED column");
      }
    }
    if (IsBytes(c.physical)) {
      if (c.offsets[0] < 0) return InvalidArgumentError(where + "negative offset");
      for (int64_t r = 0; r < rows; ++r) {
        if (c.offsets[r + 1] < c.offsets[r]) {
          return InvalidArgumentError(where + "offsets decrease at row " + std::to_string(r));
        }
        if (c.physical == PhysicalType::kFixedLenByteArray && !c.IsNull(r) &&
            c.offsets[r + 1] - c.offsets[r] != s.type_length) {
          return InvalidArgumentError(where + "value of row " + std::to_string(r) +
                                      " is not type_length bytes long");
        }
      }
      if (c.offsets[rows] > static_cast<int64_t>(c.bytes.size())) {
        return InvalidArgumentError(where + "offsets run past the bytes");
      }
      if (rows > 0 && c.offsets[rows] - c.offsets[0] > INT32_MAX) {
        return InvalidArgumentError(where + "more than 2 GiB of bytes in one batch");
      }
    }
  }
  return OkStatus();
}

Status FileWriter::Write(const std::vector<Column>& columns) {
  if (closed_ || file_ == nullptr) return FailedPreconditionError(path_ + ": writer is closed");
  RETURN_IF_ERROR(Validate(columns));
  const int64_t rows = columns[0].num_rows;
  for (size_t i = 0; i < columns.size(); ++i) AppendRows(columns[i], 0, rows, &pending_[i]);
  pending_rows_ += rows;
  while (pending_rows_ >= options_.row_group_rows) {
    RETURN_IF_ERROR(FlushRowGroup(options_.row_group_rows));
  }
  return OkStatus();
}

Status FileWriter::FlushRowGroup(int64_t rows) {
  RowGroupMeta rg;
  rg.num_rows = rows;
  rg.columns.resize(schema_.size());
  for (size_t i = 0; i < schema_.size(); ++i) {
    RETURN_IF_ERROR(WriteChunk(static_cast<int>(i), rows, &rg.columns[i]));
    rg.total_byte_size += rg.columns[i].meta_data.total_uncompressed_size;
  }
  meta_.row_groups.push_back(std::move(rg));
  meta_.num_rows += rows;
  rows_written_ += rows;
  // Keep the rows past this row group, in the same buffers: they keep their capacity, so the
  // next row group fills them without growing them again (no reallocation, copy or page
  // faults per row group).
  for (Column& c : pending_) DropFrontRows(rows, &c);
  pending_rows_ -= rows;
  return OkStatus();
}

Status FileWriter::WriteChunk(int column, int64_t rows, ColumnChunkMeta* chunk) {
  const ColumnSchema& s = schema_[column];
  const Column& c = pending_[column];
  auto valid = [&](int64_t i) { return c.validity.empty() || c.validity[i] != 0; };
  const Codec codec = options_.codec;

  // Choose the encoding: an override, else a dictionary when it stays small, else PLAIN.
  Encoding enc = Encoding::kPlain;
  auto it = options_.column_encodings.find(s.name);
  bool use_dict = it == options_.column_encodings.end() && options_.dictionary &&
                  s.physical != PhysicalType::kBoolean;
  if (it != options_.column_encodings.end()) enc = it->second;
  std::vector<uint32_t> indices;  // per non-null row, in row order
  std::string dict_plain;
  int64_t dict_size = 0;
  if (use_dict) {
    indices.reserve(rows);
    DictionaryIndex dictionary;
    const bool bytes = IsBytes(s.physical);
    // The bit pattern of fixed-width value `row`, zero-extended (the dictionary's key).
    const auto* data = static_cast<const uint8_t*>(bytes ? nullptr : ValueData(c));
    const bool wide = FixedValueWidth(s.physical) == 8;
    auto bits = [&](int64_t row) -> uint64_t {
      if (wide) {
        uint64_t v;
        std::memcpy(&v, data + row * 8, 8);
        return v;
      }
      uint32_t v;
      std::memcpy(&v, data + row * 4, 4);
      return v;
    };
    for (int64_t i = 0; i < rows && use_dict; ++i) {
      if (!valid(i)) continue;
      bool inserted = false;
      uint32_t id;
      if (bytes) {
        const std::string_view v = c.ByteValue(i);
        id = dictionary.FindOrAdd(
            MixBits64(std::hash<std::string_view>{}(v)), i,
            [&](int64_t first) { return c.ByteValue(first) == v; }, &inserted);
      } else {
        const uint64_t v = bits(i);
        id = dictionary.FindOrAdd(
            MixBits64(v), i, [&](int64_t first) { return bits(first) == v; }, &inserted);
      }
      if (inserted) {
        AppendPlainValue(c, i, &dict_plain);
        ++dict_size;
      }
      indices.push_back(id);
      if (dict_size > options_.dictionary_max_values ||
          static_cast<int64_t>(dict_plain.size()) > options_.dictionary_max_bytes) {
        use_dict = false;  // fall back to PLAIN for the whole chunk
      }
    }
    if (!use_dict) {
      indices.clear();
      dict_plain.clear();
      dict_size = 0;
    }
  }

  ColumnMetaData& m = chunk->meta_data;
  chunk->has_meta_data = true;
  m.type = static_cast<int32_t>(s.physical);
  m.path_in_schema = {s.name};
  m.codec = static_cast<int32_t>(codec);
  m.num_values = rows;
  const int64_t chunk_start = offset_;
  chunk->file_offset = chunk_start;

  std::string header, body, levels, values;
  auto write_page = [&](PageHeader& h, const std::string& page_body, size_t uncompressed) {
    h.uncompressed_page_size = static_cast<int32_t>(uncompressed);
    h.compressed_page_size = static_cast<int32_t>(page_body.size());
    header.clear();
    SerializePageHeader(h, &header);
    m.total_uncompressed_size += static_cast<int64_t>(header.size() + uncompressed);
    m.total_compressed_size += static_cast<int64_t>(header.size() + page_body.size());
    RETURN_IF_ERROR(Append(header));
    return Append(page_body);
  };

  if (use_dict) {
    m.dictionary_page_offset = offset_;
    PageHeader h;
    h.type = static_cast<int32_t>(PageType::kDictionaryPage);
    h.dictionary_page = DictionaryPageHeader{static_cast<int32_t>(dict_size),
                                             static_cast<int32_t>(Encoding::kPlain), false};
    body.clear();
    RETURN_IF_ERROR(Compress(codec, dict_plain, options_.compression_level, &body));
    RETURN_IF_ERROR(write_page(h, body, dict_plain.size()));
    enc = Encoding::kRleDictionary;
  }
  m.data_page_offset = offset_;
  const int bit_width = std::max(1, BitWidth(dict_size > 0 ? dict_size - 1 : 0));
  size_t next_index = 0;
  for (int64_t p = 0; p < rows || (rows == 0 && p == 0); p += options_.page_rows) {
    const int64_t n = std::min(options_.page_rows, rows - p);
    levels.clear();
    values.clear();
    int64_t nulls = 0;
    if (s.optional) {
      std::vector<uint8_t> lv(n);
      for (int64_t i = 0; i < n; ++i) {
        lv[i] = valid(p + i) ? 1 : 0;
        nulls += lv[i] == 0;
      }
      EncodeRleHybrid(lv.data(), n, 1, &levels);
    }
    if (use_dict) {
      const size_t count = static_cast<size_t>(n - nulls);
      values.push_back(static_cast<char>(bit_width));
      EncodeRleHybrid(indices.data() + next_index, static_cast<int64_t>(count), bit_width, &values);
      next_index += count;
    } else {
      EncodeValues(enc, c, s.type_length, p, p + n, &values);
    }
    PageHeader h;
    body.clear();
    if (!options_.data_page_v2) {
      std::string page;
      if (s.optional) {
        PutU32(static_cast<uint32_t>(levels.size()), &page);
        page += levels;
      }
      page += values;
      RETURN_IF_ERROR(Compress(codec, page, options_.compression_level, &body));
      h.type = static_cast<int32_t>(PageType::kDataPage);
      h.data_page = DataPageHeader{static_cast<int32_t>(n), static_cast<int32_t>(enc),
                                   static_cast<int32_t>(Encoding::kRle),
                                   static_cast<int32_t>(Encoding::kRle)};
      RETURN_IF_ERROR(write_page(h, body, page.size()));
    } else {
      body = levels;
      RETURN_IF_ERROR(Compress(codec, values, options_.compression_level, &body));
      h.type = static_cast<int32_t>(PageType::kDataPageV2);
      DataPageHeaderV2 v2;
      v2.num_values = static_cast<int32_t>(n);
      v2.num_nulls = static_cast<int32_t>(nulls);
      v2.num_rows = static_cast<int32_t>(n);
      v2.encoding = static_cast<int32_t>(enc);
      v2.definition_levels_byte_length = static_cast<int32_t>(levels.size());
      v2.repetition_levels_byte_length = 0;
      v2.is_compressed = codec != Codec::kUncompressed;
      h.data_page_v2 = v2;
      RETURN_IF_ERROR(write_page(h, body, levels.size() + values.size()));
    }
    if (rows == 0) break;
  }
  m.encodings = {static_cast<int32_t>(Encoding::kRle)};
  if (use_dict) {
    m.encodings.push_back(static_cast<int32_t>(Encoding::kPlain));
    m.encodings.push_back(static_cast<int32_t>(Encoding::kRleDictionary));
  } else if (enc != Encoding::kRle) {
    m.encodings.push_back(static_cast<int32_t>(enc));
  }
  m.statistics = ComputeStatistics(c, rows);
  (void)chunk_start;
  return OkStatus();
}

Status FileWriter::Close() {
  if (closed_) return OkStatus();
  if (file_ == nullptr) return FailedPreconditionError(path_ + ": writer failed earlier");
  while (pending_rows_ > 0) {
    RETURN_IF_ERROR(FlushRowGroup(std::min(pending_rows_, options_.row_group_rows)));
  }
  std::string footer;
  SerializeFileMetaData(meta_, &footer);
  uint32_t len = static_cast<uint32_t>(footer.size());
  footer.append(reinterpret_cast<const char*>(&len), 4);
  footer += "PAR1";
  RETURN_IF_ERROR(Append(footer));
  if (std::fflush(file_) != 0) return ErrnoError("write", tmp_path_, errno);
  if (::fsync(fileno(file_)) != 0) return ErrnoError("fsync", tmp_path_, errno);
  std::FILE* f = file_;
  file_ = nullptr;
  if (std::fclose(f) != 0) {
    ::unlink(tmp_path_.c_str());
    return ErrnoError("close", tmp_path_, errno);
  }
  if (std::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp_path_.c_str());
    return ErrnoError("rename", path_, err);
  }
  closed_ = true;
  return OkStatus();
}

}  // namespace bimride::parquet
