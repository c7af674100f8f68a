#include "data/csv_reader.h"

#include <zlib.h>

#include <cctype>
#include <cstring>

#include "common/file.h"

namespace bimride::data {

bool IsGzip(std::string_view data) {
  return data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f &&
         static_cast<unsigned char>(data[1]) == 0x8b;
}

StatusOr<std::string> GunzipBuffer(std::string_view data, std::string_view name) {
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
  for (;;) {
    if (produced == out.size()) out.resize(out.size() * 2);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = static_cast<uInt>(out.size() - produced);
    int rc = inflate(&zs, Z_NO_FLUSH);
    produced = out.size() - zs.avail_out;
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

StatusOr<std::string> ReadMaybeGzipFile(const std::string& path) {
  StatusOr<std::string> data = ReadFile(path);
  if (!data.ok() || !IsGzip(*data)) return data;
  return GunzipBuffer(*data, path);
}

CsvTokenizer::CsvTokenizer(std::string_view text, std::string name, char delimiter)
    : text_(text), name_(std::move(name)), delimiter_(delimiter) {
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
    return InvalidArgumentError(name_ + ": line " + std::to_string(record_line_) + ": " +
                                problem);
  };
  for (;;) {
    // One field starting at i.
    if (i < n && p[i] == '"') {
      ++i;
      const size_t start_line = line_;
      size_t seg = i;
      bool escaped = false;
      size_t scratch_begin = scratch_.size();
      for (;;) {
        if (i >= n) {
          line_ = start_line;
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
    break;
  }
  fields->reserve(spans_.size());
  for (const Span& s : spans_) {
    fields->emplace_back(s.in_scratch ? scratch_.data() + s.begin : p + s.begin, s.size);
  }
  return true;
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
