#include "parquet/file_reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>

#include "parquet/compression.h"
#include "parquet/encoding.h"

namespace bimride::parquet {

namespace {

// Decode buffers reused across pages and column chunks.
struct PageBuffers {
  std::vector<uint8_t> page;      // decompressed page
  std::vector<uint8_t> levels;    // definition levels of one page
  std::vector<uint32_t> indices;  // dictionary indices of one page
  std::vector<int64_t> ends;      // byte-array end offsets of one page's non-null values
  Column dict;                    // the current chunk's dictionary
  // INT32, INT64, FLOAT and DOUBLE dictionaries are used where they were decompressed (the
  // page buffer, kept here while the chunk's data pages take `page`), not copied into `dict`;
  // dict_values points at the values of either.
  std::vector<uint8_t> dict_page;
  const void* dict_values = nullptr;
};

}  // namespace

// The reader's decode buffers (a reader is used by one thread at a time).
struct FileReader::Scratch : PageBuffers {};

namespace {

constexpr char kMagic[] = "PAR1";

void* FixedData(Column* c) {
  switch (c->physical) {
    case PhysicalType::kInt32:
      return c->i32.data();
    case PhysicalType::kInt64:
    case PhysicalType::kInt96:
      return c->i64.data();
    case PhysicalType::kFloat:
      return c->f32.data();
    case PhysicalType::kDouble:
      return c->f64.data();
    case PhysicalType::kBoolean:
      return c->boolean.data();
    default:
      return nullptr;
  }
}

bool IsByteArray(PhysicalType t) {
  return t == PhysicalType::kByteArray || t == PhysicalType::kFixedLenByteArray;
}

// Sizes the value vector for `rows` rows.
void Allocate(Column* c, int64_t rows) {
  size_t n = static_cast<size_t>(rows);
  switch (c->physical) {
    case PhysicalType::kBoolean:
      c->boolean.resize(n);
      break;
    case PhysicalType::kInt32:
      c->i32.resize(n);
      break;
    case PhysicalType::kInt64:
    case PhysicalType::kInt96:
      c->i64.resize(n);
      break;
    case PhysicalType::kFloat:
      c->f32.resize(n);
      break;
    case PhysicalType::kDouble:
      c->f64.resize(n);
      break;
    case PhysicalType::kByteArray:
    case PhysicalType::kFixedLenByteArray:
      c->offsets.resize(n + 1);
      c->offsets[0] = 0;
      break;
  }
}

// The number of ones in levels[0, n), each 0 or 1 (definition levels of a flat column): eight
// at a time in the byte lanes of a uint64, emptied before a lane can pass 255.
int64_t CountOnes(const uint8_t* levels, int64_t n) {
  int64_t total = 0, i = 0;
  while (n - i >= 8) {
    const int64_t end = i + 8 * std::min<int64_t>((n - i) / 8, 255);
    uint64_t lanes = 0;
    for (; i < end; i += 8) {
      uint64_t word;
      std::memcpy(&word, levels + i, 8);
      lanes += word;
    }
    constexpr uint64_t kLowBytes = 0x00ff00ff00ff00ffull;
    const uint64_t pairs = (lanes & kLowBytes) + ((lanes >> 8) & kLowBytes);  // 16-bit lanes
    total += static_cast<int64_t>((pairs * 0x0001000100010001ull) >> 48);
  }
  for (; i < n; ++i) total += levels[i];
  return total;
}

// Moves the `valid` values packed at the front of [base, base + rows) to their rows, zeroing
// null slots; works backwards in place.
template <typename T>
void SpreadT(T* base, const uint8_t* levels, int64_t rows, int64_t valid) {
  int64_t j = valid - 1;
  for (int64_t i = rows - 1; i >= 0; --i) {
    if (levels[i]) {
      base[i] = base[j--];
    } else {
      base[i] = T();
    }
  }
}

void Spread(Column* c, int64_t row0, const uint8_t* levels, int64_t rows, int64_t valid) {
  switch (c->physical) {
    case PhysicalType::kBoolean:
      SpreadT(c->boolean.data() + row0, levels, rows, valid);
      break;
    case PhysicalType::kInt32:
      SpreadT(c->i32.data() + row0, levels, rows, valid);
      break;
    case PhysicalType::kInt64:
    case PhysicalType::kInt96:
      SpreadT(c->i64.data() + row0, levels, rows, valid);
      break;
    case PhysicalType::kFloat:
      SpreadT(c->f32.data() + row0, levels, rows, valid);
      break;
    case PhysicalType::kDouble:
      SpreadT(c->f64.data() + row0, levels, rows, valid);
      break;
    default:
      break;
  }
}

template <typename T>
Status GatherT(const T* dict, size_t dict_size, const uint32_t* idx, int64_t n, T* out) {
  for (int64_t i = 0; i < n; ++i) {
    uint32_t k = idx[i];
    if (k >= dict_size) {
      return DataLossError("dictionary index " + std::to_string(k) + " out of range (dictionary has " +
                           std::to_string(dict_size) + " values)");
    }
    out[i] = dict[k];
  }
  return OkStatus();
}

LogicalKind FoldLogical(const SchemaElement& e, ColumnSchema* c) {
  auto unit = [](int32_t u) {
    return u == 1 ? TimeUnit::kMillis : u == 2 ? TimeUnit::kMicros : u == 3 ? TimeUnit::kNanos
                                                                            : TimeUnit::kNone;
  };
  switch (e.logical_type_id) {
    case 0:
      break;
    case 1:   // STRING
    case 4:   // ENUM
    case 12:  // JSON
      return LogicalKind::kString;
    case 5:
      c->decimal_precision = e.logical_precision;
      c->decimal_scale = e.logical_scale;
      return LogicalKind::kDecimal;
    case 6:
      return LogicalKind::kDate;
    case 7:
    case 8:
      c->time_unit = unit(e.logical_unit);
      c->utc_adjusted = e.logical_utc;
      return e.logical_type_id == 7 ? LogicalKind::kTime : LogicalKind::kTimestamp;
    case 10:
      c->int_bit_width = e.logical_bit_width;
      c->int_signed = e.logical_signed;
      return LogicalKind::kInt;
    case 11:
      return LogicalKind::kNull;
    default:
      return LogicalKind::kOther;
  }
  if (!e.converted_type) {
    if (c->physical == PhysicalType::kInt96) {
      c->time_unit = TimeUnit::kNanos;  // INT96 carries no UTC flag; left false
      return LogicalKind::kTimestamp;
    }
    return LogicalKind::kNone;
  }
  int32_t ct = *e.converted_type;
  switch (ct) {
    case 0:   // UTF8
    case 4:   // ENUM
    case 19:  // JSON
      return LogicalKind::kString;
    case 5:
      c->decimal_precision = e.precision;
      c->decimal_scale = e.scale;
      return LogicalKind::kDecimal;
    case 6:
      return LogicalKind::kDate;
    case 7:
    case 8:
      c->time_unit = ct == 7 ? TimeUnit::kMillis : TimeUnit::kMicros;
      c->utc_adjusted = true;
      return LogicalKind::kTime;
    case 9:
    case 10:
      // The legacy TIMESTAMP_* converted types mean UTC-adjusted instants.
      c->time_unit = ct == 9 ? TimeUnit::kMillis : TimeUnit::kMicros;
      c->utc_adjusted = true;
      return LogicalKind::kTimestamp;
    case 11:
    case 12:
    case 13:
    case 14:
      c->int_bit_width = 8 << (ct - 11);
      c->int_signed = false;
      return LogicalKind::kInt;
    case 15:
    case 16:
    case 17:
    case 18:
      c->int_bit_width = 8 << (ct - 15);
      c->int_signed = true;
      return LogicalKind::kInt;
    default:
      return LogicalKind::kOther;
  }
}

// A group in the schema: a struct, list or map column (the reader reads flat schemas only).
Status NestedColumnError(const std::string& file, const std::string& column) {
  return UnimplementedError(file + ": column '" + column +
                            "': nested columns (struct, list, map) are not supported; the "
                            "reader reads flat schemas only");
}

}  // namespace

FileReader::FileReader(std::string name, ReaderOptions options)
    : name_(std::move(name)), options_(options), scratch_(std::make_unique<Scratch>()) {}

FileReader::~FileReader() {
  if (map_ != nullptr) munmap(map_, map_size_);
}

StatusOr<std::unique_ptr<FileReader>> FileReader::Open(const std::string& path,
                                                       const ReaderOptions& options) {
  std::unique_ptr<FileReader> reader(new FileReader(path, options));
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open", path, errno);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoError("stat", path, err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return InvalidArgumentError(path + ": not a regular file");
  }
  size_t size = static_cast<size_t>(st.st_size);
  if (size > 0) {
    void* map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      return ErrnoError("mmap", path, err);
    }
    reader->map_ = map;
    reader->map_size_ = size;
    reader->data_ = static_cast<const uint8_t*>(map);
  }
  ::close(fd);
  reader->size_ = size;
  RETURN_IF_ERROR(reader->Init());
  return reader;
}

StatusOr<std::unique_ptr<FileReader>> FileReader::OpenBuffer(std::string name,
                                                             std::string contents,
                                                             const ReaderOptions& options) {
  std::unique_ptr<FileReader> reader(new FileReader(std::move(name), options));
  reader->owned_ = std::move(contents);
  reader->data_ = reinterpret_cast<const uint8_t*>(reader->owned_.data());
  reader->size_ = reader->owned_.size();
  RETURN_IF_ERROR(reader->Init());
  return reader;
}

Status FileReader::Init() {
  try {
    if (size_ < 12) {
      return DataLossError(name_ + ": not a Parquet file: " + std::to_string(size_) +
                           " bytes is too small (truncated?)");
    }
    if (std::memcmp(data_, kMagic, 4) != 0) {
      return DataLossError(name_ + ": not a Parquet file: wrong magic at the start");
    }
    if (std::memcmp(data_ + size_ - 4, "PARE", 4) == 0) {
      return UnimplementedError(name_ + ": encrypted Parquet footers are not supported");
    }
    if (std::memcmp(data_ + size_ - 4, kMagic, 4) != 0) {
      return DataLossError(name_ + ": not a Parquet file: wrong magic at the end (truncated?)");
    }
    uint32_t footer_len;
    std::memcpy(&footer_len, data_ + size_ - 8, 4);
    if (footer_len > size_ - 12) {
      return DataLossError(name_ + ": footer length " + std::to_string(footer_len) +
                           " exceeds the file size " + std::to_string(size_) + " (truncated?)");
    }
    data_end_ = size_ - 8 - footer_len;
    auto meta = ParseFileMetaData(data_ + data_end_, footer_len);
    if (!meta.ok()) return meta.status().WithContext(name_ + ": footer");
    meta_ = std::move(meta).value();

    // Flat schema: a root group whose children are all leaves.
    if (meta_.schema.empty()) return DataLossError(name_ + ": empty schema");
    const SchemaElement& root = meta_.schema[0];
    if (root.num_children < 0 ||
        static_cast<size_t>(root.num_children) != meta_.schema.size() - 1) {
      for (size_t i = 1; i < meta_.schema.size(); ++i) {
        if (meta_.schema[i].num_children > 0 || !meta_.schema[i].type) {
          return NestedColumnError(name_, meta_.schema[i].name);
        }
      }
      return DataLossError(name_ + ": schema root has " + std::to_string(root.num_children) +
                           " children but " + std::to_string(meta_.schema.size() - 1) +
                           " elements follow");
    }
    for (size_t i = 1; i < meta_.schema.size(); ++i) {
      const SchemaElement& e = meta_.schema[i];
      if (e.num_children > 0 || !e.type) return NestedColumnError(name_, e.name);
      if (e.repetition_type && *e.repetition_type == 2) {
        return UnimplementedError(name_ + ": column '" + e.name +
                                  "': repeated fields are not supported");
      }
      if (*e.type < 0 || *e.type > 7) {
        return DataLossError(name_ + ": column '" + e.name + "': unknown physical type " +
                             std::to_string(*e.type));
      }
      ColumnSchema c;
      c.name = e.name;
      c.physical = static_cast<PhysicalType>(*e.type);
      c.optional = !e.repetition_type || *e.repetition_type == 1;
      c.type_length = e.type_length;
      if (c.physical == PhysicalType::kFixedLenByteArray && c.type_length <= 0) {
        return DataLossError(name_ + ": column '" + e.name +
                             "': FIXED_LEN_BYTE_ARRAY with type_length " +
                             std::to_string(c.type_length));
      }
      c.logical = FoldLogical(e, &c);
      schema_.push_back(std::move(c));
    }
    if (meta_.num_rows < 0) return DataLossError(name_ + ": negative row count");
    for (size_t g = 0; g < meta_.row_groups.size(); ++g) {
      const RowGroupMeta& rg = meta_.row_groups[g];
      std::string where = name_ + ": row group " + std::to_string(g) + ": ";
      if (rg.num_rows < 0 || rg.num_rows > options_.max_row_group_rows) {
        return DataLossError(where + "row count " + std::to_string(rg.num_rows) + " out of range");
      }
      if (rg.columns.size() != schema_.size()) {
        return DataLossError(where + std::to_string(rg.columns.size()) +
                             " column chunks for " + std::to_string(schema_.size()) + " columns");
      }
      for (size_t c = 0; c < rg.columns.size(); ++c) {
        const ColumnChunkMeta& cc = rg.columns[c];
        if (!cc.has_meta_data) {
          return DataLossError(where + "column '" + schema_[c].name + "': no column metadata");
        }
        if (cc.meta_data.type != static_cast<int32_t>(schema_[c].physical)) {
          return DataLossError(where + "column '" + schema_[c].name + "': chunk type " +
                               std::to_string(cc.meta_data.type) + " differs from schema type " +
                               std::string(PhysicalTypeName(schema_[c].physical)));
        }
      }
    }
    return OkStatus();
  } catch (const std::bad_alloc&) {
    return ResourceExhaustedError(name_ + ": out of memory reading the footer");
  }
}

int64_t FileReader::row_group_num_rows(int row_group) const {
  return meta_.row_groups[row_group].num_rows;
}

StatusOr<int> FileReader::ColumnIndex(std::string_view name) const {
  for (size_t i = 0; i < schema_.size(); ++i) {
    if (schema_[i].name == name) return static_cast<int>(i);
  }
  return NotFoundError(name_ + ": no column '" + std::string(name) + "'");
}

const ColumnStatistics& FileReader::statistics(int row_group, int column) const {
  return meta_.row_groups[row_group].columns[column].meta_data.statistics;
}

Codec FileReader::codec(int row_group, int column) const {
  return static_cast<Codec>(meta_.row_groups[row_group].columns[column].meta_data.codec);
}

Status FileReader::ChunkError(int row_group, int column, int page, const Status& s) const {
  std::string ctx = name_ + ": column '" + schema_[column].name + "': row group " +
                    std::to_string(row_group);
  if (page >= 0) ctx += ": page " + std::to_string(page);
  return s.WithContext(ctx);
}

namespace {

// One page of a column chunk, located and (once Decompress ran) decompressed.
struct PageRef {
  PageHeader header;
  const uint8_t* body = nullptr;  // compressed page body
  size_t body_size = 0;
};

// Walks the pages of a column chunk; Next returns false at the end of the chunk.
class PageWalker {
 public:
  PageWalker(const uint8_t* data, size_t begin, size_t end) : data_(data), pos_(begin), end_(end) {}
  Status Next(PageRef* page, bool* has_page) {
    if (pos_ >= end_) {
      *has_page = false;
      return OkStatus();
    }
    size_t header_size = 0;
    RETURN_IF_ERROR(ParsePageHeader(data_ + pos_, end_ - pos_, &page->header, &header_size));
    const PageHeader& h = page->header;
    if (h.compressed_page_size < 0 || h.uncompressed_page_size < 0) {
      return DataLossError("negative page size in page header");
    }
    pos_ += header_size;
    if (static_cast<size_t>(h.compressed_page_size) > end_ - pos_) {
      return DataLossError("page of " + std::to_string(h.compressed_page_size) +
                           " bytes runs past the end of the column chunk (" +
                           std::to_string(end_ - pos_) + " bytes left)");
    }
    page->body = data_ + pos_;
    page->body_size = static_cast<size_t>(h.compressed_page_size);
    pos_ += page->body_size;
    *has_page = true;
    return OkStatus();
  }

 private:
  const uint8_t* data_;
  size_t pos_;
  size_t end_;
};

// Decompresses the part of a page that is compressed. For v2 data pages the level bytes are
// stored uncompressed ahead of the values and are copied through. Sets *out to the page bytes
// (pointing into the file for uncompressed pages, else into *buffer).
Status DecompressPage(Codec codec, const PageRef& page, int64_t max_page_bytes,
                      std::vector<uint8_t>* buffer, const uint8_t** out, size_t* out_size) {
  const PageHeader& h = page.header;
  size_t usize = static_cast<size_t>(h.uncompressed_page_size);
  if (static_cast<int64_t>(usize) > max_page_bytes) {
    return DataLossError("page claims " + std::to_string(usize) +
                         " decompressed bytes, above the limit of " +
                         std::to_string(max_page_bytes));
  }
  size_t prefix = 0;  // uncompressed level bytes (v2)
  bool compressed = codec != Codec::kUncompressed;
  if (h.type == static_cast<int32_t>(PageType::kDataPageV2)) {
    if (!h.data_page_v2) return DataLossError("DATA_PAGE_V2 without its header");
    const DataPageHeaderV2& v2 = *h.data_page_v2;
    if (v2.definition_levels_byte_length < 0 || v2.repetition_levels_byte_length < 0) {
      return DataLossError("negative level length in DATA_PAGE_V2 header");
    }
    prefix = static_cast<size_t>(v2.definition_levels_byte_length) +
             static_cast<size_t>(v2.repetition_levels_byte_length);
    if (prefix > page.body_size || prefix > usize) {
      return DataLossError("DATA_PAGE_V2 level lengths exceed the page size");
    }
    compressed = compressed && v2.is_compressed;
  }
  if (!compressed) {
    if (page.body_size != usize) {
      return DataLossError("uncompressed page has " + std::to_string(page.body_size) +
                           " bytes, page header says " + std::to_string(usize));
    }
    *out = page.body;
    *out_size = usize;
    return OkStatus();
  }
  buffer->resize(usize);
  if (prefix > 0) std::memcpy(buffer->data(), page.body, prefix);
  RETURN_IF_ERROR(Decompress(codec, page.body + prefix, page.body_size - prefix,
                             buffer->data() + prefix, usize - prefix));
  *out = buffer->data();
  *out_size = usize;
  return OkStatus();
}

// Decodes `n` non-null values encoded with `encoding` into the column at row `row0`
// (for byte arrays: appends bytes and writes the ends into `ends`).
Status DecodeValues(Encoding encoding, const uint8_t* data, size_t size, int64_t n,
                    const ColumnSchema& schema, Column* col, int64_t row0, int64_t* ends) {
  const PhysicalType t = col->physical;
  switch (encoding) {
    case Encoding::kPlain:
      switch (t) {
        case PhysicalType::kBoolean:
          return DecodePlainBoolean(data, size, n, col->boolean.data() + row0);
        case PhysicalType::kInt96:
          return DecodePlainInt96(data, size, n, col->i64.data() + row0);
        case PhysicalType::kByteArray:
          return DecodePlainByteArray(data, size, n, &col->bytes, ends);
        case PhysicalType::kFixedLenByteArray:
          return DecodePlainFixedByteArray(data, size, schema.type_length, n, &col->bytes, ends);
        default:
          return DecodePlainFixed(
              data, size, static_cast<int>(FixedValueWidth(t)), n,
              static_cast<uint8_t*>(FixedData(col)) + row0 * FixedValueWidth(t));
      }
    case Encoding::kRle:
      if (t != PhysicalType::kBoolean) break;
      {
        if (size < 4) return DataLossError("RLE boolean data lacks its length prefix");
        uint32_t len;
        std::memcpy(&len, data, 4);
        if (len > size - 4) return DataLossError("RLE boolean length prefix exceeds the page");
        return DecodeRleHybrid(data + 4, len, 1, n, col->boolean.data() + row0);
      }
    case Encoding::kDeltaBinaryPacked:
      if (t == PhysicalType::kInt32) {
        return DecodeDeltaBinaryPacked(data, size, n, col->i32.data() + row0, nullptr);
      }
      if (t == PhysicalType::kInt64) {
        return DecodeDeltaBinaryPacked(data, size, n, col->i64.data() + row0, nullptr);
      }
      break;
    case Encoding::kDeltaLengthByteArray:
      if (t == PhysicalType::kByteArray) {
        return DecodeDeltaLengthByteArray(data, size, n, &col->bytes, ends);
      }
      break;
    case Encoding::kDeltaByteArray:
      if (IsByteArray(t)) {
        const int64_t base = static_cast<int64_t>(col->bytes.size());
        RETURN_IF_ERROR(DecodeDeltaByteArray(data, size, n, &col->bytes, ends));
        if (t == PhysicalType::kFixedLenByteArray) {
          for (int64_t i = 0; i < n; ++i) {
            int64_t begin = i == 0 ? base : ends[i - 1];
            if (ends[i] - begin != schema.type_length) {
              return DataLossError("DELTA_BYTE_ARRAY value length differs from type_length");
            }
          }
        }
        return OkStatus();
      }
      break;
    case Encoding::kByteStreamSplit:
      if (FixedValueWidth(t) != 0) {
        return DecodeByteStreamSplit(
            data, size, static_cast<int>(FixedValueWidth(t)), n,
            static_cast<uint8_t*>(FixedData(col)) + row0 * FixedValueWidth(t));
      }
      if (t == PhysicalType::kFixedLenByteArray) {
        size_t base = col->bytes.size();
        col->bytes.resize(base + static_cast<size_t>(n) * schema.type_length);
        RETURN_IF_ERROR(DecodeByteStreamSplit(data, size, schema.type_length, n,
                                              col->bytes.data() + base));
        for (int64_t i = 0; i < n; ++i) {
          ends[i] = static_cast<int64_t>(base) + (i + 1) * schema.type_length;
        }
        return OkStatus();
      }
      break;
    default:
      return UnimplementedError("unsupported encoding " + std::string(EncodingName(encoding)));
  }
  return UnimplementedError("encoding " + std::string(EncodingName(encoding)) +
                            " is not valid for " + std::string(PhysicalTypeName(t)));
}

// Where a column chunk's pages begin: its dictionary page when that comes first.
int64_t ChunkStart(const ColumnMetaData& m) {
  int64_t start = m.data_page_offset;
  if (m.dictionary_page_offset && *m.dictionary_page_offset > 0 &&
      *m.dictionary_page_offset < start) {
    start = *m.dictionary_page_offset;
  }
  return start;
}

// True when `size` bytes from `start` lie after the magic and before `data_end` (the footer).
bool ChunkInData(int64_t start, int64_t size, size_t data_end) {
  return start >= 4 && size >= 0 && static_cast<uint64_t>(start) <= data_end &&
         static_cast<uint64_t>(size) <= data_end - static_cast<uint64_t>(start);
}

// Unimplemented when the chunk lives in another file or uses a codec the reader lacks.
Status CheckChunkSupported(const ColumnChunkMeta& cc) {
  if (!cc.file_path.empty()) {
    return UnimplementedError("column chunk stored in another file ('" + cc.file_path + "')");
  }
  const int32_t codec = cc.meta_data.codec;
  if (!CodecSupported(static_cast<Codec>(codec))) {
    return UnimplementedError("unsupported compression codec " +
                              (codec >= 0 && codec <= 7
                                   ? std::string(CodecName(static_cast<Codec>(codec)))
                                   : std::to_string(codec)));
  }
  return OkStatus();
}

// Makes *out a column of `rows` rows of `physical`, ready to decode into, keeping its capacity.
void PrepareColumn(PhysicalType physical, int64_t rows, Column* out) {
  // Every slot of the value vector is overwritten by the decoder (values, or zero for nulls),
  // so a reused Column keeps its vector as is and skips re-zeroing it.
  if (out->physical != physical) out->Clear();
  out->physical = physical;
  out->num_rows = rows;
  out->null_count = 0;
  out->bytes.clear();
  out->validity.clear();
  Allocate(out, rows);
}

// Decodes a dictionary page (PLAIN values) into buf->dict; `have_dict` says whether the chunk
// already had one (an error: one dictionary per chunk).
Status DecodeDictionaryPage(const PageHeader& h, const uint8_t* body, size_t size,
                            const ColumnSchema& schema, bool have_dict, PageBuffers* buf) {
  if (!h.dictionary_page) return DataLossError("DICTIONARY_PAGE without its header");
  if (have_dict) return DataLossError("second dictionary page in one column chunk");
  const DictionaryPageHeader& d = *h.dictionary_page;
  auto enc = static_cast<Encoding>(d.encoding);
  if (enc != Encoding::kPlain && enc != Encoding::kPlainDictionary) {
    return UnimplementedError("dictionary page encoding " + std::string(EncodingName(enc)));
  }
  // Every dictionary value takes at least one byte (bit for booleans), which bounds n.
  if (d.num_values < 0 || static_cast<uint64_t>(d.num_values) > size * 8 + 8) {
    return DataLossError("dictionary page claims " + std::to_string(d.num_values) + " values in " +
                         std::to_string(size) + " bytes");
  }
  const PhysicalType t = schema.physical;
  if (t == PhysicalType::kInt32 || t == PhysicalType::kInt64 || t == PhysicalType::kFloat ||
      t == PhysicalType::kDouble) {
    if (body == buf->page.data()) {  // decompressed: the buffer is aligned for any value type
      RETURN_IF_ERROR(CheckPlainFixed(size, static_cast<int>(FixedValueWidth(t)), d.num_values));
      buf->page.swap(buf->dict_page);
      buf->dict_values = buf->dict_page.data();
      buf->dict.num_rows = d.num_values;
      return OkStatus();
    }
  }
  Allocate(&buf->dict, d.num_values);
  buf->dict_values = FixedData(&buf->dict);
  buf->ends.resize(d.num_values);
  RETURN_IF_ERROR(DecodeValues(Encoding::kPlain, body, size, d.num_values, schema, &buf->dict, 0,
                               buf->ends.data()));
  if (IsByteArray(schema.physical)) {
    std::copy(buf->ends.begin(), buf->ends.end(), buf->dict.offsets.begin() + 1);
  }
  buf->dict.num_rows = d.num_values;
  return OkStatus();
}

// A data page (v1 or v2) split into its definition levels and its values.
struct DataPage {
  int64_t num_values = 0;  // rows of the page (flat columns: one value or null per row)
  Encoding encoding = Encoding::kPlain;
  const uint8_t* def_levels = nullptr;  // RLE-hybrid, without a length prefix
  size_t def_size = 0;
  const uint8_t* values = nullptr;
  size_t values_size = 0;
};

// Splits the decompressed `body` of a DATA_PAGE or DATA_PAGE_V2 of a flat column, checking it
// holds no more than `rows_left` rows.
Status SplitDataPage(const PageHeader& h, PageType type, const uint8_t* body, size_t size,
                     const ColumnSchema& schema, int64_t rows_left, DataPage* page) {
  int32_t num_values;
  if (type == PageType::kDataPage) {
    if (!h.data_page) return DataLossError("DATA_PAGE without its header");
    num_values = h.data_page->num_values;
    page->encoding = static_cast<Encoding>(h.data_page->encoding);
    page->values = body;
    page->values_size = size;
    if (schema.optional) {
      if (h.data_page->definition_level_encoding != static_cast<int32_t>(Encoding::kRle)) {
        return UnimplementedError("definition level encoding " +
                                  std::string(EncodingName(static_cast<Encoding>(
                                      h.data_page->definition_level_encoding))));
      }
      if (size < 4) return DataLossError("definition levels lack their length prefix");
      uint32_t len;
      std::memcpy(&len, body, 4);
      if (len > size - 4) {
        return DataLossError("definition levels length " + std::to_string(len) +
                             " exceeds the page (" + std::to_string(size - 4) + " bytes)");
      }
      page->def_levels = body + 4;
      page->def_size = len;
      page->values = body + 4 + len;
      page->values_size = size - 4 - len;
    }
  } else {
    const DataPageHeaderV2& v2 = *h.data_page_v2;
    num_values = v2.num_values;
    page->encoding = static_cast<Encoding>(v2.encoding);
    if (v2.repetition_levels_byte_length != 0) {
      return UnimplementedError("repetition levels in a flat column");
    }
    page->def_levels = body;
    page->def_size = static_cast<size_t>(v2.definition_levels_byte_length);
    page->values = body + page->def_size;
    page->values_size = size - page->def_size;
    if (!schema.optional && page->def_size != 0) {
      return DataLossError("definition levels in a REQUIRED column");
    }
    if (v2.num_rows != num_values) {
      return DataLossError("DATA_PAGE_V2 has " + std::to_string(v2.num_rows) + " rows but " +
                           std::to_string(num_values) + " values in a flat column");
    }
  }
  if (num_values < 0 || num_values > rows_left) {
    return DataLossError("page has " + std::to_string(num_values) +
                         " values but the row group has " + std::to_string(rows_left) +
                         " rows left");
  }
  page->num_values = num_values;
  return OkStatus();
}

// fn(T()) with T the type a fixed-width physical type's values have in a Column (booleans:
// uint8_t), or `otherwise` for byte arrays.
template <typename R, typename Fn>
R VisitFixed(PhysicalType t, R otherwise, Fn fn) {
  switch (t) {
    case PhysicalType::kBoolean: return fn(uint8_t());
    case PhysicalType::kInt32: return fn(int32_t());
    case PhysicalType::kInt64:
    case PhysicalType::kInt96: return fn(int64_t());
    case PhysicalType::kFloat: return fn(float());
    case PhysicalType::kDouble: return fn(double());
    default: return otherwise;
  }
}

// The current chunk's dictionary values of a fixed-width type T (see PageBuffers).
template <typename T>
const T* DictValues(const PageBuffers& buf) {
  return static_cast<const T*>(buf.dict_values);
}

// Copies the dictionary values `idx[0, n)` to rows [row0, row0 + n) of `out` (byte arrays:
// appends the bytes and writes each value's end into `ends`). DataLoss for an index outside
// the dictionary.
Status GatherFromDictionary(const PageBuffers& buf, const uint32_t* idx, int64_t n, Column* out,
                            int64_t row0, int64_t* ends) {
  const Column& dict = buf.dict;
  const size_t dict_size = static_cast<size_t>(dict.num_rows);
  if (!IsByteArray(out->physical)) {
    return VisitFixed(out->physical, OkStatus(), [&](auto value) {
      using T = decltype(value);
      return GatherT(DictValues<T>(buf), dict_size, idx, n, static_cast<T*>(FixedData(out)) + row0);
    });
  }
  const int64_t* doff = dict.offsets.data();
  // Size first, then copy, so the bytes grow once.
  size_t total = 0;
  for (int64_t i = 0; i < n; ++i) {
    uint32_t k = idx[i];
    if (k >= dict_size) {
      return DataLossError("dictionary index " + std::to_string(k) +
                           " out of range (dictionary has " + std::to_string(dict_size) +
                           " values)");
    }
    total += static_cast<size_t>(doff[k + 1] - doff[k]);
  }
  size_t pos = out->bytes.size();
  out->bytes.resize(pos + total);
  char* dst = out->bytes.data();
  const char* src = dict.bytes.data();
  for (int64_t i = 0; i < n; ++i) {
    uint32_t k = idx[i];
    size_t len = static_cast<size_t>(doff[k + 1] - doff[k]);
    // An all-empty dictionary has no bytes at all (data() may be null): copy nothing.
    if (len > 0) std::memcpy(dst + pos, src + doff[k], len);
    pos += len;
    ends[i] = static_cast<int64_t>(pos);
  }
  return OkStatus();
}

// Fixed-width values: decodes n dictionary indices straight into rows [row0, row0 + n) of
// `out` (GatherRleHybrid). False for byte arrays and for indices that are malformed or out of
// range, which the caller decodes the general way.
bool GatherFixedValues(const PageBuffers& buf, const uint8_t* data, size_t size, int w,
                       int64_t n, Column* out, int64_t row0) {
  return VisitFixed(out->physical, false, [&](auto value) {
    using T = decltype(value);
    return GatherRleHybrid(data, size, w, n, DictValues<T>(buf),
                           static_cast<size_t>(buf.dict.num_rows),
                           static_cast<T*>(FixedData(out)) + row0);
  });
}

// Decodes the `valid` non-null values of a page into rows [row0, row0 + valid) of `out`, packed
// (nulls are spread out afterwards); byte arrays write their value ends into buf->ends.
Status DecodePageValues(const DataPage& page, int64_t valid, const ColumnSchema& schema,
                        bool have_dict, int64_t row0, PageBuffers* buf, Column* out) {
  if (page.encoding != Encoding::kPlainDictionary && page.encoding != Encoding::kRleDictionary) {
    return DecodeValues(page.encoding, page.values, page.values_size, valid, schema, out, row0,
                        buf->ends.data());
  }
  if (!have_dict) return DataLossError("dictionary-encoded page without a dictionary page");
  if (valid == 0) return OkStatus();
  if (page.values_size < 1) return DataLossError("dictionary indices lack their bit width");
  int w = page.values[0];
  if (w > 32) return DataLossError("dictionary index bit width " + std::to_string(w));
  if (GatherFixedValues(*buf, page.values + 1, page.values_size - 1, w, valid, out, row0)) {
    return OkStatus();
  }
  // Byte arrays, or malformed indices: decode the indices, then gather (naming what is wrong).
  buf->indices.resize(valid);
  RETURN_IF_ERROR(
      DecodeRleHybrid(page.values + 1, page.values_size - 1, w, valid, buf->indices.data()));
  return GatherFromDictionary(*buf, buf->indices.data(), valid, out, row0, buf->ends.data());
}

// Decodes one data page into rows [row0, row0 + page.num_values) of `out` (a column of `rows`
// rows): definition levels, then values, then the values moved to their rows around the nulls.
Status DecodeDataPage(const DataPage& page, const ColumnSchema& schema, bool have_dict,
                      int64_t rows, int64_t row0, PageBuffers* buf, Column* out) {
  const int64_t n = page.num_values;
  // Definition levels: 1 = value, 0 = null (max definition level 1 for a flat column).
  int64_t valid = n;
  bool page_has_nulls = false;
  if (schema.optional && n > 0) {
    buf->levels.resize(n);
    RETURN_IF_ERROR(DecodeRleHybrid(page.def_levels, page.def_size, 1, n, buf->levels.data()));
    valid = CountOnes(buf->levels.data(), n);
    page_has_nulls = valid != n;
    if (page_has_nulls) {
      if (out->validity.empty()) out->validity.assign(rows, 1);
      std::memcpy(out->validity.data() + row0, buf->levels.data(), n);
      out->null_count += n - valid;
    }
  }

  const bool byte_array = IsByteArray(schema.physical);
  if (byte_array) buf->ends.resize(valid);
  RETURN_IF_ERROR(DecodePageValues(page, valid, schema, have_dict, row0, buf, out));

  // Place values at their rows.
  if (byte_array) {
    int64_t* offs = out->offsets.data() + row0 + 1;
    if (!page_has_nulls) {
      if (n > 0) std::memcpy(offs, buf->ends.data(), sizeof(int64_t) * n);
    } else {
      int64_t last = out->offsets[row0];
      int64_t k = 0;
      for (int64_t i = 0; i < n; ++i) {
        if (buf->levels[i]) last = buf->ends[k++];
        offs[i] = last;
      }
    }
  } else if (page_has_nulls) {
    Spread(out, row0, buf->levels.data(), n, valid);
  }
  return OkStatus();
}

}  // namespace

Status FileReader::ReadColumnChunk(int row_group, int column, Column* out) {
  int page = -1;
  try {
    Status s = DecodeChunk(row_group, column, out, &page);
    if (!s.ok()) return ChunkError(row_group, column, page, s);
    return OkStatus();
  } catch (const std::bad_alloc&) {
    return ChunkError(row_group, column, page, ResourceExhaustedError("out of memory"));
  }
}

Status FileReader::DecodeChunk(int row_group, int column, Column* out, int* page_index) {
  if (row_group < 0 || row_group >= num_row_groups() || column < 0 || column >= num_columns()) {
    return InvalidArgumentError("row group or column index out of range");
  }
  const ColumnSchema& schema = schema_[column];
  const ColumnChunkMeta& cc = meta_.row_groups[row_group].columns[column];
  const ColumnMetaData& m = cc.meta_data;
  const int64_t rows = meta_.row_groups[row_group].num_rows;
  RETURN_IF_ERROR(CheckChunkSupported(cc));
  const Codec codec = static_cast<Codec>(m.codec);
  const int64_t start = ChunkStart(m);
  if (!ChunkInData(start, m.total_compressed_size, data_end_)) {
    return DataLossError("column chunk at offset " + std::to_string(start) + " of " +
                         std::to_string(m.total_compressed_size) +
                         " bytes lies outside the file's data (" + std::to_string(data_end_) +
                         " bytes)");
  }

  PageBuffers& buf = *scratch_;
  PrepareColumn(schema.physical, rows, out);
  buf.dict.Clear();
  buf.dict.physical = schema.physical;
  bool has_dict = false;

  PageWalker walker(data_, static_cast<size_t>(start),
                    static_cast<size_t>(start + m.total_compressed_size));
  int64_t done = 0;  // rows decoded
  for (int page_no = 0; done < rows; ++page_no) {
    *page_index = page_no;
    PageRef page;
    bool has_page = false;
    RETURN_IF_ERROR(walker.Next(&page, &has_page));
    if (!has_page) {
      *page_index = -1;
      return DataLossError("column chunk ends after " + std::to_string(done) + " of " +
                           std::to_string(rows) + " rows");
    }
    const PageHeader& h = page.header;
    const auto type = static_cast<PageType>(h.type);
    if (type != PageType::kDictionaryPage && type != PageType::kDataPage &&
        type != PageType::kDataPageV2) {
      continue;  // index pages and unknown page types carry no values
    }
    const uint8_t* body;
    size_t size;
    RETURN_IF_ERROR(DecompressPage(codec, page, options_.max_page_bytes, &buf.page, &body, &size));
    if (type == PageType::kDictionaryPage) {
      RETURN_IF_ERROR(DecodeDictionaryPage(h, body, size, schema, has_dict, &buf));
      has_dict = true;
      continue;
    }
    DataPage data_page;
    RETURN_IF_ERROR(SplitDataPage(h, type, body, size, schema, rows - done, &data_page));
    RETURN_IF_ERROR(DecodeDataPage(data_page, schema, has_dict, rows, done, &buf, out));
    done += data_page.num_values;
  }
  *page_index = -1;
  return OkStatus();
}

Status FileReader::ReadRowGroup(int row_group, const std::vector<int>& columns,
                                RowGroupBatch* batch) {
  if (row_group < 0 || row_group >= num_row_groups()) {
    return OutOfRangeError(name_ + ": row group " + std::to_string(row_group) + " out of range (" +
                           std::to_string(num_row_groups()) + " row groups)");
  }
  for (int c : columns) {
    if (c < 0 || c >= num_columns()) {
      return OutOfRangeError(name_ + ": column index " + std::to_string(c) + " out of range (" +
                             std::to_string(num_columns()) + " columns)");
    }
  }
  batch->num_rows = meta_.row_groups[row_group].num_rows;
  batch->column_indices = columns;
  batch->columns.resize(columns.size());
  for (size_t i = 0; i < columns.size(); ++i) {
    RETURN_IF_ERROR(ReadColumnChunk(row_group, columns[i], &batch->columns[i]));
  }
  return OkStatus();
}

StatusOr<RowGroupBatch> FileReader::ReadRowGroup(int row_group, const std::vector<int>& columns) {
  RowGroupBatch batch;
  RETURN_IF_ERROR(ReadRowGroup(row_group, columns, &batch));
  return batch;
}

StatusOr<int64_t> FileReader::DecompressOnly(int row_group, const std::vector<int>& columns) {
  if (row_group < 0 || row_group >= num_row_groups()) {
    return OutOfRangeError(name_ + ": row group " + std::to_string(row_group) + " out of range");
  }
  int64_t total = 0;
  for (int column : columns) {
    if (column < 0 || column >= num_columns()) {
      return OutOfRangeError(name_ + ": column index out of range");
    }
    const ColumnMetaData& m = meta_.row_groups[row_group].columns[column].meta_data;
    const Codec codec = static_cast<Codec>(m.codec);
    const int64_t start = ChunkStart(m);
    if (!ChunkInData(start, m.total_compressed_size, data_end_)) {
      return ChunkError(row_group, column, -1, DataLossError("column chunk outside the file"));
    }
    PageWalker walker(data_, start, start + m.total_compressed_size);
    for (int page_no = 0;; ++page_no) {
      PageRef page;
      bool has_page;
      Status s = walker.Next(&page, &has_page);
      if (!s.ok()) return ChunkError(row_group, column, page_no, s);
      if (!has_page) break;
      const uint8_t* body;
      size_t size;
      s = DecompressPage(codec, page, options_.max_page_bytes, &scratch_->page, &body, &size);
      if (!s.ok()) return ChunkError(row_group, column, page_no, s);
      total += static_cast<int64_t>(size);
    }
  }
  return total;
}

}  // namespace bimride::parquet
