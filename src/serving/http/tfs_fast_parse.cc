#include "serving/http/tfs_fast_parse.h"

#include <simdjson.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "serving/http/request_json.h"

namespace bimride::serving::http {
namespace {

namespace dom = simdjson::dom;

// Escapes and raw control characters are where JSON parsers differ at the edges (lone
// surrogates, unescaped control bytes); bodies without them are left to the general path.
bool PlainText(std::string_view body) {
  for (unsigned char c : body) {
    if (c == '\\' || (c < 0x20 && c != ' ' && c != '\t' && c != '\n' && c != '\r')) return false;
  }
  return true;
}

// A JSON number as the general path reads it: nlohmann keeps integers as int64 / uint64 and
// get<double>() casts them; other numbers are correctly rounded doubles in both parsers.
bool Number(const dom::element& e, double* out) {
  switch (e.type()) {
    case dom::element_type::INT64:
      *out = static_cast<double>(e.get_int64().value_unsafe());
      return true;
    case dom::element_type::UINT64:
      *out = static_cast<double>(e.get_uint64().value_unsafe());
      return true;
    case dom::element_type::DOUBLE:
      *out = e.get_double().value_unsafe();
      return true;
    default:
      return false;
  }
}

// One instance of raw fields, its fields sorted by name (nlohmann's object order).
bool SortedFields(const dom::element& row, std::vector<std::pair<std::string_view, dom::element>>* out) {
  dom::object object;
  if (row.get_object().get(object)) return false;
  out->clear();
  for (dom::key_value_pair field : object) out->emplace_back(field.key, field.value);
  if (out->empty()) return false;
  std::sort(out->begin(), out->end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 1; i < out->size(); ++i) {
    if ((*out)[i - 1].first == (*out)[i].first) return false;  // duplicate key
  }
  return true;
}

bool RawRows(const dom::array& rows, size_t n, ModelInput* input) {
  std::vector<std::pair<std::string_view, dom::element>> fields;
  size_t r = 0;
  for (dom::element row : rows) {
    if (!SortedFields(row, &fields)) return false;
    if (r == 0) {
      for (const auto& [name, value] : fields) {
        input->raw.columns.push_back({std::string(name), {}});
        input->raw.columns.back().values.reserve(n);
      }
    } else if (fields.size() != input->raw.columns.size()) {
      return false;
    }
    for (size_t c = 0; c < fields.size(); ++c) {
      RawColumn& column = input->raw.columns[c];
      if (r > 0 && fields[c].first != column.name) return false;
      const dom::element& v = fields[c].second;
      double number = 0;
      if (Number(v, &number)) {
        column.values.emplace_back(number);
      } else if (v.type() == dom::element_type::STRING) {
        column.values.emplace_back(std::string(v.get_string().value_unsafe()));
      } else {
        // Arrays (a named tensor), objects, null, true/false: the general path's business.
        return false;
      }
    }
    ++r;
  }
  input->rows = static_cast<int64_t>(n);
  input->raw.rows = input->rows;
  return true;
}

bool NumericRows(const dom::array& rows, size_t n, ModelInput* input) {
  size_t r = 0;
  for (dom::element row : rows) {
    dom::array numbers;
    if (row.get_array().get(numbers)) return false;
    const size_t before = input->values.size();
    for (dom::element x : numbers) {
      double number = 0;
      if (!Number(x, &number)) return false;
      input->values.push_back(ToFloat(number));
    }
    const int64_t width = static_cast<int64_t>(input->values.size() - before);
    if (width == 0 || (r > 0 && width != input->width)) return false;
    if (r == 0) {
      input->width = width;
      input->values.reserve(n * static_cast<size_t>(width));
    }
    ++r;
  }
  input->rows = static_cast<int64_t>(n);
  return true;
}

}  // namespace

std::optional<TfsPredictRequest> TryParseTfsPredictFast(std::string_view body, int64_t max_rows,
                                                        Status* refused) {
  if (!PlainText(body)) return std::nullopt;
  if (body.size() > kScanRowsAbove) {
    // The general path's own scan, so both refuse the same bodies in the same words; it stops
    // at the first row over the limit, before simdjson builds the whole document.
    RowScan scan = ScanTfsRows(body, max_rows);
    if (!scan.status.ok()) {
      if (refused != nullptr) *refused = scan.status;
      return std::nullopt;
    }
  }
  thread_local dom::parser parser;
  dom::element doc;
  if (parser.parse(body.data(), body.size()).get(doc)) return std::nullopt;
  dom::object top;
  if (doc.get_object().get(top) || top.size() != 1) return std::nullopt;
  const dom::key_value_pair only = *top.begin();
  dom::array rows;
  if (only.key != "instances" || only.value.get_array().get(rows)) return std::nullopt;
  const size_t n = rows.size();
  if (n == 0) return std::nullopt;
  if (static_cast<int64_t>(n) > max_rows) {
    // The general path checks the row count first, in these words (tfs_codec.cc).
    if (refused != nullptr) *refused = TooManyRows("'instances'", max_rows);
    return std::nullopt;
  }
  TfsPredictRequest request;
  const dom::element_type first = (*rows.begin()).type();
  bool ok = false;
  if (first == dom::element_type::OBJECT) {
    ok = RawRows(rows, n, &request.input);
  } else if (first == dom::element_type::ARRAY) {
    ok = NumericRows(rows, n, &request.input);
  }
  if (!ok) return std::nullopt;
  return request;
}

}  // namespace bimride::serving::http
