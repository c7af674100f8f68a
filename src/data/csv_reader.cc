#include "data/csv_reader.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "common/file.h"

namespace bimride::data {

bool IsGzip(std::string_view data) {
  return data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f &&
         static_cast<unsigned char>(data[1]) == 0x8b;
}

namespace {

// Drops the bytes of `out[from, *end)` that make a line longer than `limit`; `line` carries the
// length of the line in progress across calls. Moves nothing while no line is over the limit.
void CapLines(std::string& out, size_t from, size_t* end, size_t limit, size_t* line) {
  size_t r = from, w = from;
  while (r < *end) {
    const void* nl = std::memchr(out.data() + r, '\n', *end - r);
    const size_t stop = nl ? static_cast<size_t>(static_cast<const char*>(nl) - out.data()) : *end;
    const size_t take = std::min(stop - r, *line < limit ? limit - *line : 0);
    if (w != r) std::memmove(out.data() + w, out.data() + r, take);
    w += take;
    *line = std::min(*line + (stop - r), limit);
    r = stop;
    if (nl) {
      out[w++] = '\n';
      *line = 0;
      ++r;
    }
  }
  *end = w;
}

}  // namespace

StatusOr<std::string> GunzipBuffer(std::string_view data, std::string_view name,
                                   size_t max_line_bytes) {
  std::string out;
  out.resize(data.size() * 4 + 4096);
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  if (inflateInit2(&zs, 15 + 16) != Z_OK) {
    return InternalError(std::string(name) + ": gzip: inflateInit2 failed");
  }
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  size_t produced = 0;
  size_t line = 0;  // bytes of the line in progress
  for (;;) {
    if (produced == out.size()) out.resize(out.size() * 2);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = static_cast<uInt>(out.size() - produced);
    int rc = inflate(&zs, Z_NO_FLUSH);
    const size_t before = produced;
    produced = out.size() - zs.avail_out;
    CapLines(out, before, &produced, max_line_bytes + 1, &line);
    if (rc == Z_STREAM_END) {
      // Another gzip member may follow (concatenated .gz files are valid gzip).
      if (zs.avail_in > 0 && IsGzip(std::string_view(reinterpret_cast<char*>(zs.next_in),
                                                      zs.avail_in))) {
        inflateReset(&zs);
        continue;
      }
      if (zs.avail_in > 0) {
        inflateEnd(&zs);
        return DataLossError(std::string(name) + ": gzip: " + std::to_string(zs.avail_in) +
                             " bytes of trailing garbage after the compressed stream");
      }
      break;
    }
    if (rc == Z_OK) continue;
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
      inflateEnd(&zs);
      return DataLossError(std::string(name) + ": gzip: truncated stream (ends after " +
                           std::to_string(produced) + " decompressed bytes)");
    }
    std::string msg = zs.msg ? zs.msg : ("zlib error " + std::to_string(rc));
    inflateEnd(&zs);
    return DataLossError(std::string(name) + ": gzip: corrupt stream: " + msg);
  }
  inflateEnd(&zs);
  out.resize(produced);
  return out;
}

StatusOr<std::string> ReadMaybeGzipFile(const std::string& path, size_t max_line_bytes) {
  StatusOr<std::string> data = ReadFile(path);
  if (!data.ok() || !IsGzip(*data)) return data;
  return GunzipBuffer(*data, path, max_line_bytes);
}

CsvTokenizer::CsvTokenizer(std::string_view text, std::string name, char delimiter,
                           size_t max_line_bytes)
    : text_(text), name_(std::move(name)), delimiter_(delimiter), max_line_bytes_(max_line_bytes) {
  if (text_.size() >= 3 && text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
}

StatusOr<bool> CsvTokenizer::Next(std::vector<std::string_view>* fields) {
  fields->clear();
  spans_.clear();
  scratch_.clear();
  const char* p = text_.data();
  const size_t n = text_.size();
  // Skip empty lines.
  while (pos_ < n && (p[pos_] == '\n' || p[pos_] == '\r')) {
    if (p[pos_] == '\n') ++line_;
    ++pos_;
  }
  if (pos_ >= n) return false;
  record_line_ = line_;
  const size_t record_begin = pos_;
  size_t i = pos_;
  auto fail = [&](std::string problem) -> Status {
    // Skip to the end of the physical line so that reading can resume after the bad record.
    while (i < n && p[i] != '\n') ++i;
    raw_ = std::string_view(p + record_begin, i - record_begin);
    if (!raw_.empty() && raw_.back() == '\r') raw_.remove_suffix(1);
    if (i < n) {
      ++i;
      ++line_;
    }
    pos_ = i;
    if (raw_.size() > max_line_bytes_) return OverCap();
    return InvalidArgumentError(name_ + ": line " + std::to_string(record_line_) + ": " +
                                problem);
  };
  for (;;) {
    // Past the cap: stop collecting fields (a line of commas would cost 24 bytes per byte).
    if (i - record_begin > max_line_bytes_) return fail("");
    // One field starting at i.
    if (i < n && p[i] == '"') {
      ++i;
      size_t seg = i;
      bool escaped = false;
      size_t scratch_begin = scratch_.size();
      for (;;) {
        if (i >= n) {
          // Resume on the line after the record's first line, so that one stray quote costs
          // one line rather than the rest of the file.
          i = record_begin;
          line_ = record_line_;
          return fail("unterminated quoted field");
        }
        char c = p[i];
        if (c == '"') {
          if (i + 1 < n && p[i + 1] == '"') {
            scratch_.append(p + seg, i + 1 - seg);  // keep one quote
            escaped = true;
            i += 2;
            seg = i;
            continue;
          }
          break;
        }
        if (c == '\n') ++line_;
        ++i;
      }
      if (escaped) {
        scratch_.append(p + seg, i - seg);
        spans_.push_back({true, scratch_begin, scratch_.size() - scratch_begin});
      } else {
        spans_.push_back({false, seg, i - seg});
      }
      ++i;  // closing quote
      if (i < n && p[i] != delimiter_ && p[i] != '\n' && p[i] != '\r') {
        return fail("field " + std::to_string(spans_.size()) +
                    ": characters after a closing quote");
      }
    } else {
      size_t start = i;
      while (i < n && p[i] != delimiter_ && p[i] != '\n' && p[i] != '\r') {
        if (p[i] == '"') {
          return fail("field " + std::to_string(spans_.size() + 1) +
                      ": quote inside an unquoted field");
        }
        ++i;
      }
      spans_.push_back({false, start, i - start});
    }
    if (i < n && p[i] == delimiter_) {
      ++i;
      continue;
    }
    // End of record: \n, \r\n, lone \r or end of input.
    size_t record_end = i;
    if (i < n && p[i] == '\r') ++i;
    if (i < n && p[i] == '\n') {
      ++i;
      ++line_;
    }
    raw_ = std::string_view(p + record_begin, record_end - record_begin);
    pos_ = i;
    if (raw_.size() > max_line_bytes_) return OverCap();
    break;
  }
  fields->reserve(spans_.size());
  for (const Span& s : spans_) {
    fields->emplace_back(s.in_scratch ? scratch_.data() + s.begin : p + s.begin, s.size);
  }
  return true;
}

Status CsvTokenizer::OverCap() {
  raw_ = raw_.substr(0, kRawPrefixBytes);
  return InvalidArgumentError(name_ + ": line " + std::to_string(record_line_) +
                              ": record longer than the cap of " + std::to_string(max_line_bytes_) +
                              " bytes (not a line of a CSV?)");
}

CsvHeader::CsvHeader(const std::vector<std::string_view>& fields) {
  names_.reserve(fields.size());
  for (std::string_view f : fields) {
    std::string name(f);
    // Trim surrounding blanks; some published headers carry them.
    while (!name.empty() && std::isspace(static_cast<unsigned char>(name.back()))) name.pop_back();
    size_t k = 0;
    while (k < name.size() && std::isspace(static_cast<unsigned char>(name[k]))) ++k;
    name.erase(0, k);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    names_.push_back(std::move(name));
  }
}

int CsvHeader::Find(std::string_view name) const {
  for (size_t i = 0; i < names_.size(); ++i) {
    if (names_[i].size() != name.size()) continue;
    bool same = true;
    for (size_t k = 0; k < name.size() && same; ++k) {
      same = names_[i][k] == std::tolower(static_cast<unsigned char>(name[k]));
    }
    if (same) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace bimride::data
