#include "simulator/csv_text.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>

#include "common/civil_time.h"

namespace bimride::simulator {
namespace {

constexpr size_t kFlushBytes = 1 << 20;
constexpr int64_t kPow10[10] = {1,      10,      100,      1000,      10000,
                                100000, 1000000, 10000000, 100000000, 1000000000};

void Two(char* p, int v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

// Parses exactly `n` digits at `p`; -1 when any is not a digit.
int Digits(const char* p, int n) {
  int v = 0;
  for (int i = 0; i < n; ++i) {
    if (p[i] < '0' || p[i] > '9') return -1;
    v = v * 10 + (p[i] - '0');
  }
  return v;
}

std::vector<std::string> SplitHeader(std::string_view header) {
  std::vector<std::string> names;
  size_t start = 0;
  for (;;) {
    size_t comma = header.find(',', start);
    names.emplace_back(header.substr(start, comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return names;
}

}  // namespace

CsvFileWriter::~CsvFileWriter() {
  if (file_ != nullptr) {
    std::fclose(file_);
    ::unlink(tmp_path_.c_str());
  }
}

Status CsvFileWriter::Open(const std::string& path) {
  path_ = path;
  tmp_path_ = path + ".tmp";
  file_ = std::fopen(tmp_path_.c_str(), "wb");
  if (file_ == nullptr) {
    status_ = ErrnoError("open for writing", path, errno);
    return status_;
  }
  buf_.reserve(kFlushBytes + 4096);
  return OkStatus();
}

void CsvFileWriter::Flush() {
  if (file_ == nullptr || !status_.ok()) {
    buf_.clear();
    return;
  }
  if (!buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), file_) != buf_.size()) {
    status_ = ErrnoError("write", path_, errno);
  }
  buf_.clear();
}

void CsvFileWriter::Int(int64_t v) {
  char tmp[24];
  auto res = std::to_chars(tmp, tmp + sizeof(tmp), v);
  buf_.append(tmp, res.ptr);
}

void CsvFileWriter::Fixed(double v, int decimals) {
  if (!std::isfinite(v)) return;
  const int64_t scale = kPow10[decimals];
  int64_t scaled = std::llround(v * static_cast<double>(scale));
  if (scaled < 0) {
    buf_.push_back('-');
    scaled = -scaled;
  }
  Int(scaled / scale);
  if (decimals == 0) return;
  buf_.push_back('.');
  int64_t frac = scaled % scale;
  char tmp[10];
  for (int i = decimals - 1; i >= 0; --i) {
    tmp[i] = static_cast<char>('0' + frac % 10);
    frac /= 10;
  }
  buf_.append(tmp, static_cast<size_t>(decimals));
}

void CsvFileWriter::Text(std::string_view s) { buf_.append(s); }

void CsvFileWriter::Date(int64_t micros) {
  const int64_t day = DayIndex(micros);
  if (day != cached_day_) {
    const CivilTime t = CivilFromMicros(day * kMicrosPerDay);
    char tmp[16];
    std::snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d", t.year, t.month, t.day);
    std::memcpy(cached_date_, tmp, 10);
    cached_day_ = day;
  }
  buf_.append(cached_date_, 10);
}

void CsvFileWriter::DateTime(int64_t micros) {
  Date(micros);
  const int64_t in_day = micros - DayIndex(micros) * kMicrosPerDay;
  const int64_t secs = in_day / kMicrosPerSecond;
  char tmp[9] = {' ', 0, 0, ':', 0, 0, ':', 0, 0};
  Two(tmp + 1, static_cast<int>(secs / 3600));
  Two(tmp + 4, static_cast<int>(secs / 60 % 60));
  Two(tmp + 7, static_cast<int>(secs % 60));
  buf_.append(tmp, 9);
  if (const int64_t us = in_day % kMicrosPerSecond; us != 0) {
    char frac[7] = {'.'};
    int64_t f = us;
    for (int i = 6; i >= 1; --i) {
      frac[i] = static_cast<char>('0' + f % 10);
      f /= 10;
    }
    buf_.append(frac, 7);
  }
}

void CsvFileWriter::EndLine() {
  buf_.push_back('\n');
  if (buf_.size() >= kFlushBytes) Flush();
}

Status CsvFileWriter::Close() {
  if (file_ == nullptr)
    return status_.ok() ? FailedPreconditionError(path_ + ": not open") : status_;
  Flush();
  if (status_.ok() && std::fflush(file_) != 0) status_ = ErrnoError("write", path_, errno);
  if (status_.ok() && ::fsync(::fileno(file_)) != 0) status_ = ErrnoError("fsync", path_, errno);
  if (std::fclose(file_) != 0 && status_.ok()) status_ = ErrnoError("close", path_, errno);
  file_ = nullptr;
  if (status_.ok() && std::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
    status_ = ErrnoError("rename into place", path_, errno);
  }
  if (!status_.ok()) ::unlink(tmp_path_.c_str());
  return status_;
}

CsvCursor::CsvCursor(std::string path, std::string_view text, std::string_view header)
    : path_(std::move(path)), text_(text), names_(SplitHeader(header)) {
  fields_.reserve(names_.size());
}

StatusOr<CsvCursor> CsvCursor::Open(std::string path, std::string_view text,
                                    std::string_view header) {
  CsvCursor c(std::move(path), text, header);
  size_t end = text.find('\n');
  std::string_view first = text.substr(0, end);
  if (!first.empty() && first.back() == '\r') first.remove_suffix(1);
  if (text.empty()) return InvalidArgumentError(c.path_ + ": empty file, expected a header");
  if (first != header) {
    return InvalidArgumentError(c.path_ + ":1: header is '" + std::string(first.substr(0, 200)) +
                                "', expected '" + std::string(header) + "'");
  }
  c.pos_ = end == std::string_view::npos ? text.size() : end + 1;
  return c;
}

StatusOr<bool> CsvCursor::Next() {
  while (pos_ < text_.size()) {
    ++line_;
    size_t end = text_.find('\n', pos_);
    if (end == std::string_view::npos) end = text_.size();
    std::string_view line = text_.substr(pos_, end - pos_);
    pos_ = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    fields_.clear();
    size_t start = 0;
    for (;;) {
      const size_t comma = line.find(',', start);
      fields_.push_back(line.substr(start, comma - start));
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    if (fields_.size() != names_.size()) {
      return LineError("expected " + std::to_string(names_.size()) + " fields, got " +
                       std::to_string(fields_.size()));
    }
    return true;
  }
  return false;
}

Status CsvCursor::LineError(std::string_view what) const {
  return InvalidArgumentError(path_ + ":" + std::to_string(line_) + ": " + std::string(what));
}

Status CsvCursor::Error(size_t i, std::string_view what) const {
  return InvalidArgumentError(path_ + ":" + std::to_string(line_) + ": column '" + names_[i] +
                              "': " + std::string(what) + " '" +
                              std::string(fields_[i].substr(0, 64)) + "'");
}

Status CsvCursor::Int(size_t i, int64_t* out) const {
  const std::string_view f = fields_[i];
  auto res = std::from_chars(f.data(), f.data() + f.size(), *out);
  if (f.empty() || res.ec != std::errc() || res.ptr != f.data() + f.size()) {
    return Error(i, "not an integer:");
  }
  return OkStatus();
}

Status CsvCursor::Double(size_t i, double* out) const {
  const std::string_view f = fields_[i];
  auto res = std::from_chars(f.data(), f.data() + f.size(), *out);
  if (f.empty() || res.ec != std::errc() || res.ptr != f.data() + f.size() ||
      !std::isfinite(*out)) {
    return Error(i, "not a number:");
  }
  return OkStatus();
}

Status CsvCursor::Float(size_t i, float* out) const {
  if (fields_[i].empty()) {
    *out = std::nanf("");
    return OkStatus();
  }
  double v;
  RETURN_IF_ERROR(Double(i, &v));
  *out = static_cast<float>(v);
  return OkStatus();
}

Status CsvCursor::DateTime(size_t i, int64_t* out) const {
  const std::string_view f = fields_[i];
  // Fast path for the "YYYY-MM-DD HH:MM:SS" this writer produces.
  if (f.size() == 19 && f[4] == '-' && f[7] == '-' && f[10] == ' ' && f[13] == ':' &&
      f[16] == ':') {
    CivilTime t;
    t.year = Digits(f.data(), 4);
    t.month = Digits(f.data() + 5, 2);
    t.day = Digits(f.data() + 8, 2);
    t.hour = Digits(f.data() + 11, 2);
    t.minute = Digits(f.data() + 14, 2);
    t.second = Digits(f.data() + 17, 2);
    if (t.year >= 0 && t.month >= 0 && t.day >= 0 && t.hour >= 0 && t.minute >= 0 &&
        t.second >= 0 && IsValidCivil(t)) {
      *out = MicrosFromCivil(t);
      return OkStatus();
    }
    return Error(i, "not a date-time:");
  }
  StatusOr<int64_t> parsed = ParseCivil(f);
  if (!parsed.ok()) return Error(i, "not a date-time:");
  *out = *parsed;
  return OkStatus();
}

Status CsvCursor::Bool01(size_t i, bool* out) const {
  const std::string_view f = fields_[i];
  if (f == "0" || f == "1") {
    *out = f == "1";
    return OkStatus();
  }
  return Error(i, "not 0 or 1:");
}

}  // namespace bimride::simulator
