#include "parquet/metadata.h"

#include "parquet/thrift_compact.h"

namespace bimride::parquet {
namespace {

using T = CompactType;

Status I32(CompactReader& r, T type, int32_t* v, const char* what) {
  RETURN_IF_ERROR(ExpectType(type, T::kI32, what));
  return r.ReadI32(v);
}
Status I64(CompactReader& r, T type, int64_t* v, const char* what) {
  RETURN_IF_ERROR(ExpectType(type, T::kI64, what));
  return r.ReadI64(v);
}
Status Bin(CompactReader& r, T type, std::string* v, const char* what) {
  RETURN_IF_ERROR(ExpectType(type, T::kBinary, what));
  return r.ReadBinary(v);
}
Status Bool(CompactReader& r, T type, bool* v, const char* what) {
  if (type != T::kBoolTrue && type != T::kBoolFalse) return ExpectType(type, T::kBoolTrue, what);
  return r.ReadBool(type, v);
}

// Calls `on_field(id, type)` for every field of a struct; on_field skips what it does not know.
template <typename F>
Status ForEachField(CompactReader& r, F&& on_field) {
  RETURN_IF_ERROR(r.StructBegin());
  for (;;) {
    int16_t id;
    T type;
    RETURN_IF_ERROR(r.ReadFieldHeader(&id, &type));
    if (type == T::kStop) break;
    RETURN_IF_ERROR(on_field(id, type));
  }
  r.StructEnd();
  return OkStatus();
}

Status ExpectStruct(T type, const char* what) { return ExpectType(type, T::kStruct, what); }

// A list whose elements are structs; `read_elem` parses one.
template <typename F>
Status ForEachListElement(CompactReader& r, T type, T elem_expected, const char* what,
                          F&& read_elem) {
  RETURN_IF_ERROR(ExpectType(type, T::kList, what));
  T elem;
  int32_t n;
  RETURN_IF_ERROR(r.ReadListHeader(&elem, &n));
  RETURN_IF_ERROR(ExpectType(elem, elem_expected, what));
  for (int32_t i = 0; i < n; ++i) RETURN_IF_ERROR(read_elem());
  return OkStatus();
}

Status ParseEmpty(CompactReader& r) {
  return ForEachField(r, [&](int16_t, T type) { return r.Skip(type); });
}

Status ParseStatistics(CompactReader& r, ColumnStatistics* s) {
  std::optional<std::string> legacy_min, legacy_max;
  RETURN_IF_ERROR(ForEachField(r, [&](int16_t id, T type) -> Status {
    std::string v;
    int64_t n;
    switch (id) {
      case 1:
        RETURN_IF_ERROR(Bin(r, type, &v, "Statistics.max"));
        legacy_max = std::move(v);
        return OkStatus();
      case 2:
        RETURN_IF_ERROR(Bin(r, type, &v, "Statistics.min"));
        legacy_min = std::move(v);
        return OkStatus();
      case 3:
        RETURN_IF_ERROR(I64(r, type, &n, "Statistics.null_count"));
        s->null_count = n;
        return OkStatus();
      case 4:
        RETURN_IF_ERROR(I64(r, type, &n, "Statistics.distinct_count"));
        s->distinct_count = n;
        return OkStatus();
      case 5:
        RETURN_IF_ERROR(Bin(r, type, &v, "Statistics.max_value"));
        s->max = std::move(v);
        return OkStatus();
      case 6:
        RETURN_IF_ERROR(Bin(r, type, &v, "Statistics.min_value"));
        s->min = std::move(v);
        return OkStatus();
      default:
        return r.Skip(type);
    }
  }));
  // The legacy min/max used signed byte order for byte arrays; trust them only for numbers,
  // which is decided by the caller with the column type. Keep them when the new ones are absent.
  if (!s->min && !s->max && legacy_min && legacy_max) {
    s->min = std::move(legacy_min);
    s->max = std::move(legacy_max);
  }
  return OkStatus();
}

Status ParseTimeUnit(CompactReader& r, int32_t* unit) {
  return ForEachField(r, [&](int16_t id, T type) -> Status {
    if (id >= 1 && id <= 3 && type == T::kStruct) {
      *unit = id;
      return ParseEmpty(r);
    }
    return r.Skip(type);
  });
}

Status ParseLogicalType(CompactReader& r, SchemaElement* e) {
  return ForEachField(r, [&](int16_t id, T type) -> Status {
    RETURN_IF_ERROR(ExpectStruct(type, "LogicalType member"));
    e->logical_type_id = id;
    switch (id) {
      case 5:  // DECIMAL
        return ForEachField(r, [&](int16_t fid, T ft) -> Status {
          if (fid == 1) return I32(r, ft, &e->logical_scale, "DecimalType.scale");
          if (fid == 2) return I32(r, ft, &e->logical_precision, "DecimalType.precision");
          return r.Skip(ft);
        });
      case 7:  // TIME
      case 8:  // TIMESTAMP
        return ForEachField(r, [&](int16_t fid, T ft) -> Status {
          if (fid == 1) return Bool(r, ft, &e->logical_utc, "TimestampType.isAdjustedToUTC");
          if (fid == 2) {
            RETURN_IF_ERROR(ExpectStruct(ft, "TimestampType.unit"));
            return ParseTimeUnit(r, &e->logical_unit);
          }
          return r.Skip(ft);
        });
      case 10:  // INTEGER
        return ForEachField(r, [&](int16_t fid, T ft) -> Status {
          if (fid == 1) {
            RETURN_IF_ERROR(ExpectType(ft, T::kByte, "IntType.bitWidth"));
            int8_t w;
            RETURN_IF_ERROR(r.ReadI8(&w));
            e->logical_bit_width = w;
            return OkStatus();
          }
          if (fid == 2) return Bool(r, ft, &e->logical_signed, "IntType.isSigned");
          return r.Skip(ft);
        });
      default:
        return ParseEmpty(r);
    }
  });
}

Status ParseSchemaElement(CompactReader& r, SchemaElement* e) {
  return ForEachField(r, [&](int16_t id, T type) -> Status {
    int32_t v;
    switch (id) {
      case 1:
        RETURN_IF_ERROR(I32(r, type, &v, "SchemaElement.type"));
        e->type = v;
        return OkStatus();
      case 2:
        return I32(r, type, &e->type_length, "SchemaElement.type_length");
      case 3:
        RETURN_IF_ERROR(I32(r, type, &v, "SchemaElement.repetition_type"));
        e->repetition_type = v;
        return OkStatus();
      case 4:
        return Bin(r, type, &e->name, "SchemaElement.name");
      case 5:
        return I32(r, type, &e->num_children, "SchemaElement.num_children");
      case 6:
        RETURN_IF_ERROR(I32(r, type, &v, "SchemaElement.converted_type"));
        e->converted_type = v;
        return OkStatus();
      case 7:
        return I32(r, type, &e->scale, "SchemaElement.scale");
      case 8:
        return I32(r, type, &e->precision, "SchemaElement.precision");
      case 10:
        RETURN_IF_ERROR(ExpectStruct(type, "SchemaElement.logicalType"));
        return ParseLogicalType(r, e);
      default:
        return r.Skip(type);
    }
  });
}

Status ParseColumnMetaData(CompactReader& r, ColumnMetaData* m) {
  return ForEachField(r, [&](int16_t id, T type) -> Status {
    switch (id) {
      case 1:
        return I32(r, type, &m->type, "ColumnMetaData.type");
      case 2:
        return ForEachListElement(r, type, T::kI32, "ColumnMetaData.encodings", [&]() -> Status {
          int32_t v;
          RETURN_IF_ERROR(r.ReadI32(&v));
          m->encodings.push_back(v);
          return OkStatus();
        });
      case 3:
        return ForEachListElement(r, type, T::kBinary, "ColumnMetaData.path_in_schema",
                                  [&]() -> Status {
                                    std::string s;
                                    RETURN_IF_ERROR(r.ReadBinary(&s));
                                    m->path_in_schema.push_back(std::move(s));
                                    return OkStatus();
                                  });
      case 4:
        return I32(r, type, &m->codec, "ColumnMetaData.codec");
      case 5:
        return I64(r, type, &m->num_values, "ColumnMetaData.num_values");
      case 6:
        return I64(r, type, &m->total_uncompressed_size, "ColumnMetaData.total_uncompressed_size");
      case 7:
        return I64(r, type, &m->total_compressed_size, "ColumnMetaData.total_compressed_size");
      case 9:
        return I64(r, type, &m->data_page_offset, "ColumnMetaData.data_page_offset");
      case 11: {
        int64_t v;
        RETURN_IF_ERROR(I64(r, type, &v, "ColumnMetaData.dictionary_page_offset"));
        m->dictionary_page_offset = v;
        return OkStatus();
      }
      case 12:
        RETURN_IF_ERROR(ExpectStruct(type, "ColumnMetaData.statistics"));
        return ParseStatistics(r, &m->statistics);
      default:
        return r.Skip(type);
    }
  });
}

Status ParseColumnChunk(CompactReader& r, ColumnChunkMeta* c) {
  return ForEachField(r, [&](int16_t id, T type) -> Status {
    switch (id) {
      case 1:
        return Bin(r, type, &c->file_path, "ColumnChunk.file_path");
      case 2:
        return I64(r, type, &c->file_offset, "ColumnChunk.file_offset");
      case 3:
        RETURN_IF_ERROR(ExpectStruct(type, "ColumnChunk.meta_data"));
        c->has_meta_data = true;
        return ParseColumnMetaData(r, &c->meta_data);
      default:
        return r.Skip(type);
    }
  });
}

Status ParseRowGroup(CompactReader& r, RowGroupMeta* g) {
  return ForEachField(r, [&](int16_t id, T type) -> Status {
    switch (id) {
      case 1:
        return ForEachListElement(r, type, T::kStruct, "RowGroup.columns", [&]() {
          g->columns.emplace_back();
          return ParseColumnChunk(r, &g->columns.back());
        });
      case 2:
        return I64(r, type, &g->total_byte_size, "RowGroup.total_byte_size");
      case 3:
        return I64(r, type, &g->num_rows, "RowGroup.num_rows");
      default:
        return r.Skip(type);
    }
  });
}

}  // namespace

StatusOr<FileMetaData> ParseFileMetaData(const uint8_t* data, size_t size) {
  CompactReader r(data, size);
  FileMetaData meta;
  bool has_schema = false, has_num_rows = false, has_row_groups = false;
  RETURN_IF_ERROR(ForEachField(r, [&](int16_t id, T type) -> Status {
    switch (id) {
      case 1:
        return I32(r, type, &meta.version, "FileMetaData.version");
      case 2:
        has_schema = true;
        return ForEachListElement(r, type, T::kStruct, "FileMetaData.schema", [&]() {
          meta.schema.emplace_back();
          return ParseSchemaElement(r, &meta.schema.back());
        });
      case 3:
        has_num_rows = true;
        return I64(r, type, &meta.num_rows, "FileMetaData.num_rows");
      case 4:
        has_row_groups = true;
        return ForEachListElement(r, type, T::kStruct, "FileMetaData.row_groups", [&]() {
          meta.row_groups.emplace_back();
          return ParseRowGroup(r, &meta.row_groups.back());
        });
      case 5:
        return ForEachListElement(r, type, T::kStruct, "FileMetaData.key_value_metadata", [&]() {
          KeyValue kv;
          RETURN_IF_ERROR(ForEachField(r, [&](int16_t fid, T ft) -> Status {
            if (fid == 1) return Bin(r, ft, &kv.key, "KeyValue.key");
            if (fid == 2) {
              std::string v;
              RETURN_IF_ERROR(Bin(r, ft, &v, "KeyValue.value"));
              kv.value = std::move(v);
              return OkStatus();
            }
            return r.Skip(ft);
          }));
          meta.key_value_metadata.push_back(std::move(kv));
          return OkStatus();
        });
      case 6:
        return Bin(r, type, &meta.created_by, "FileMetaData.created_by");
      default:
        return r.Skip(type);
    }
  }));
  if (!has_schema || !has_num_rows || !has_row_groups) {
    return DataLossError("bad Thrift metadata: FileMetaData lacks a required field");
  }
  return meta;
}

Status ParsePageHeader(const uint8_t* data, size_t size, PageHeader* h, size_t* header_size) {
  CompactReader r(data, size);
  *h = PageHeader();
  bool has_type = false, has_sizes = false;
  RETURN_IF_ERROR(ForEachField(r, [&](int16_t id, T type) -> Status {
    switch (id) {
      case 1:
        has_type = true;
        return I32(r, type, &h->type, "PageHeader.type");
      case 2:
        return I32(r, type, &h->uncompressed_page_size, "PageHeader.uncompressed_page_size");
      case 3:
        has_sizes = true;
        return I32(r, type, &h->compressed_page_size, "PageHeader.compressed_page_size");
      case 4: {
        int32_t v;
        RETURN_IF_ERROR(I32(r, type, &v, "PageHeader.crc"));
        h->crc = v;
        return OkStatus();
      }
      case 5: {
        RETURN_IF_ERROR(ExpectStruct(type, "PageHeader.data_page_header"));
        DataPageHeader d;
        RETURN_IF_ERROR(ForEachField(r, [&](int16_t fid, T ft) -> Status {
          switch (fid) {
            case 1:
              return I32(r, ft, &d.num_values, "DataPageHeader.num_values");
            case 2:
              return I32(r, ft, &d.encoding, "DataPageHeader.encoding");
            case 3:
              return I32(r, ft, &d.definition_level_encoding, "DataPageHeader.def_encoding");
            case 4:
              return I32(r, ft, &d.repetition_level_encoding, "DataPageHeader.rep_encoding");
            default:
              return r.Skip(ft);
          }
        }));
        h->data_page = d;
        return OkStatus();
      }
      case 7: {
        RETURN_IF_ERROR(ExpectStruct(type, "PageHeader.dictionary_page_header"));
        DictionaryPageHeader d;
        RETURN_IF_ERROR(ForEachField(r, [&](int16_t fid, T ft) -> Status {
          switch (fid) {
            case 1:
              return I32(r, ft, &d.num_values, "DictionaryPageHeader.num_values");
            case 2:
              return I32(r, ft, &d.encoding, "DictionaryPageHeader.encoding");
            case 3:
              return Bool(r, ft, &d.is_sorted, "DictionaryPageHeader.is_sorted");
            default:
              return r.Skip(ft);
          }
        }));
        h->dictionary_page = d;
        return OkStatus();
      }
      case 8: {
        RETURN_IF_ERROR(ExpectStruct(type, "PageHeader.data_page_header_v2"));
        DataPageHeaderV2 d;
        RETURN_IF_ERROR(ForEachField(r, [&](int16_t fid, T ft) -> Status {
          switch (fid) {
            case 1:
              return I32(r, ft, &d.num_values, "DataPageHeaderV2.num_values");
            case 2:
              return I32(r, ft, &d.num_nulls, "DataPageHeaderV2.num_nulls");
            case 3:
              return I32(r, ft, &d.num_rows, "DataPageHeaderV2.num_rows");
            case 4:
              return I32(r, ft, &d.encoding, "DataPageHeaderV2.encoding");
            case 5:
              return I32(r, ft, &d.definition_levels_byte_length,
                         "DataPageHeaderV2.definition_levels_byte_length");
            case 6:
              return I32(r, ft, &d.repetition_levels_byte_length,
                         "DataPageHeaderV2.repetition_levels_byte_length");
            case 7:
              return Bool(r, ft, &d.is_compressed, "DataPageHeaderV2.is_compressed");
            default:
              return r.Skip(ft);
          }
        }));
        h->data_page_v2 = d;
        return OkStatus();
      }
      default:
        return r.Skip(type);
    }
  }));
  if (!has_type || !has_sizes) {
    return DataLossError("bad Thrift metadata: PageHeader lacks a required field");
  }
  *header_size = r.position();
  return OkStatus();
}

// ---- serialization ----

namespace {

void WriteStatistics(CompactWriter& w, const ColumnStatistics& s) {
  w.StructBegin();
  if (s.null_count) w.FieldI64(3, *s.null_count);
  if (s.distinct_count) w.FieldI64(4, *s.distinct_count);
  if (s.max) w.FieldBinary(5, *s.max);
  if (s.min) w.FieldBinary(6, *s.min);
  w.StructEnd();
}

void WriteLogicalType(CompactWriter& w, const SchemaElement& e) {
  w.StructBegin();
  w.FieldHeader(e.logical_type_id, T::kStruct);
  w.StructBegin();
  switch (e.logical_type_id) {
    case 5:  // DECIMAL
      w.FieldI32(1, e.logical_scale);
      w.FieldI32(2, e.logical_precision);
      break;
    case 7:  // TIME
    case 8:  // TIMESTAMP
      w.FieldBool(1, e.logical_utc);
      w.FieldHeader(2, T::kStruct);
      w.StructBegin();
      w.FieldHeader(static_cast<int16_t>(e.logical_unit), T::kStruct);
      w.StructBegin();
      w.StructEnd();
      w.StructEnd();
      break;
    case 10:  // INTEGER
      w.FieldI8(1, static_cast<int8_t>(e.logical_bit_width));
      w.FieldBool(2, e.logical_signed);
      break;
    default:
      break;
  }
  w.StructEnd();
  w.StructEnd();
}

}  // namespace

void SerializeFileMetaData(const FileMetaData& meta, std::string* out) {
  CompactWriter w(out);
  w.StructBegin();
  w.FieldI32(1, meta.version);
  w.FieldHeader(2, T::kList);
  w.ListHeader(T::kStruct, static_cast<int32_t>(meta.schema.size()));
  for (const SchemaElement& e : meta.schema) {
    w.StructBegin();
    if (e.type) w.FieldI32(1, *e.type);
    if (e.type && *e.type == static_cast<int32_t>(PhysicalType::kFixedLenByteArray)) {
      w.FieldI32(2, e.type_length);
    }
    if (e.repetition_type) w.FieldI32(3, *e.repetition_type);
    w.FieldBinary(4, e.name);
    if (!e.type) w.FieldI32(5, e.num_children);
    if (e.converted_type) w.FieldI32(6, *e.converted_type);
    if (e.logical_type_id != 0) {
      w.FieldHeader(10, T::kStruct);
      WriteLogicalType(w, e);
    }
    w.StructEnd();
  }
  w.FieldI64(3, meta.num_rows);
  w.FieldHeader(4, T::kList);
  w.ListHeader(T::kStruct, static_cast<int32_t>(meta.row_groups.size()));
  for (const RowGroupMeta& g : meta.row_groups) {
    w.StructBegin();
    w.FieldHeader(1, T::kList);
    w.ListHeader(T::kStruct, static_cast<int32_t>(g.columns.size()));
    for (const ColumnChunkMeta& c : g.columns) {
      w.StructBegin();
      w.FieldI64(2, c.file_offset);
      w.FieldHeader(3, T::kStruct);
      const ColumnMetaData& m = c.meta_data;
      w.StructBegin();
      w.FieldI32(1, m.type);
      w.FieldHeader(2, T::kList);
      w.ListHeader(T::kI32, static_cast<int32_t>(m.encodings.size()));
      for (int32_t e : m.encodings) w.I32(e);
      w.FieldHeader(3, T::kList);
      w.ListHeader(T::kBinary, static_cast<int32_t>(m.path_in_schema.size()));
      for (const std::string& p : m.path_in_schema) w.Binary(p);
      w.FieldI32(4, m.codec);
      w.FieldI64(5, m.num_values);
      w.FieldI64(6, m.total_uncompressed_size);
      w.FieldI64(7, m.total_compressed_size);
      w.FieldI64(9, m.data_page_offset);
      if (m.dictionary_page_offset) w.FieldI64(11, *m.dictionary_page_offset);
      w.FieldHeader(12, T::kStruct);
      WriteStatistics(w, m.statistics);
      w.StructEnd();
      w.StructEnd();
    }
    w.FieldI64(2, g.total_byte_size);
    w.FieldI64(3, g.num_rows);
    w.StructEnd();
  }
  if (!meta.key_value_metadata.empty()) {
    w.FieldHeader(5, T::kList);
    w.ListHeader(T::kStruct, static_cast<int32_t>(meta.key_value_metadata.size()));
    for (const KeyValue& kv : meta.key_value_metadata) {
      w.StructBegin();
      w.FieldBinary(1, kv.key);
      if (kv.value) w.FieldBinary(2, *kv.value);
      w.StructEnd();
    }
  }
  if (!meta.created_by.empty()) w.FieldBinary(6, meta.created_by);
  w.StructEnd();
}

void SerializePageHeader(const PageHeader& h, std::string* out) {
  CompactWriter w(out);
  w.StructBegin();
  w.FieldI32(1, h.type);
  w.FieldI32(2, h.uncompressed_page_size);
  w.FieldI32(3, h.compressed_page_size);
  if (h.crc) w.FieldI32(4, *h.crc);
  if (h.data_page) {
    w.FieldHeader(5, T::kStruct);
    w.StructBegin();
    w.FieldI32(1, h.data_page->num_values);
    w.FieldI32(2, h.data_page->encoding);
    w.FieldI32(3, h.data_page->definition_level_encoding);
    w.FieldI32(4, h.data_page->repetition_level_encoding);
    w.StructEnd();
  }
  if (h.dictionary_page) {
    w.FieldHeader(7, T::kStruct);
    w.StructBegin();
    w.FieldI32(1, h.dictionary_page->num_values);
    w.FieldI32(2, h.dictionary_page->encoding);
    if (h.dictionary_page->is_sorted) w.FieldBool(3, true);
    w.StructEnd();
  }
  if (h.data_page_v2) {
    const DataPageHeaderV2& d = *h.data_page_v2;
    w.FieldHeader(8, T::kStruct);
    w.StructBegin();
    w.FieldI32(1, d.num_values);
    w.FieldI32(2, d.num_nulls);
    w.FieldI32(3, d.num_rows);
    w.FieldI32(4, d.encoding);
    w.FieldI32(5, d.definition_levels_byte_length);
    w.FieldI32(6, d.repetition_levels_byte_length);
    w.FieldBool(7, d.is_compressed);
    w.StructEnd();
  }
  w.StructEnd();
}

}  // namespace bimride::parquet
