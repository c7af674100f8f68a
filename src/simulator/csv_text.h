// Fast, allocation-free CSV text for the simulator's files: a buffered file writer that formats
// numbers and civil times itself (no iostreams, no printf per field), and a line/field cursor
// over a file read into memory that reports errors as "<path>:<line>: …".
// Fields never contain commas, quotes or newlines (the simulator writes none), so no quoting.
// Not thread-safe: one writer/reader per thread.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace bimride::simulator {

// Writes `path` through a temporary file in the same folder that Close() renames into place,
// so readers never see a half-written file. Errors (open, write, rename) name the path; once an
// error happened, later calls do nothing and Close() returns it.
class CsvFileWriter {
 public:
  CsvFileWriter() = default;
  ~CsvFileWriter();  // abandons (removes) the temporary file when Close() was not called
  CsvFileWriter(const CsvFileWriter&) = delete;
  CsvFileWriter& operator=(const CsvFileWriter&) = delete;

  Status Open(const std::string& path);

  void Int(int64_t v);
  // Fixed-point with `decimals` (0..9) digits, rounded half away from zero; NaN → empty field.
  void Fixed(double v, int decimals);
  void Text(std::string_view s);
  // "YYYY-MM-DD HH:MM:SS" (".ffffff" appended when there are microseconds).
  void DateTime(int64_t micros);
  void Date(int64_t micros);  // "YYYY-MM-DD"
  void Comma() { buf_.push_back(','); }
  void EndLine();

  Status Close();

 private:
  void Flush();

  std::string path_;
  std::string tmp_path_;
  std::FILE* file_ = nullptr;
  std::string buf_;
  Status status_;
  int64_t cached_day_ = INT64_MIN;
  char cached_date_[10] = {};
};

// Iterates the lines of a CSV file held in memory, checking the header and the field count.
class CsvCursor {
 public:
  // `text` must outlive the cursor. Checks the first line equals `header`.
  static StatusOr<CsvCursor> Open(std::string path, std::string_view text, std::string_view header);

  // Advances to the next non-empty line and splits it; false at the end of the file.
  // Fails when the line does not have as many fields as the header.
  StatusOr<bool> Next();
  std::string_view Field(size_t i) const { return fields_[i]; }
  size_t line() const { return line_; }

  // Typed field access; errors name the path, line, column and the bad text.
  Status Int(size_t i, int64_t* out) const;
  Status Double(size_t i, double* out) const;
  Status Float(size_t i, float* out) const;  // empty field → NaN
  Status DateTime(size_t i, int64_t* out) const;
  Status Bool01(size_t i, bool* out) const;
  Status Error(size_t i, std::string_view what) const;
  Status LineError(std::string_view what) const;

 private:
  CsvCursor(std::string path, std::string_view text, std::string_view header);

  std::string path_;
  std::string_view text_;
  std::vector<std::string> names_;
  size_t pos_ = 0;
  size_t line_ = 1;
  std::vector<std::string_view> fields_;
};

}  // namespace bimride::simulator
