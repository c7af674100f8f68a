// Reading delimited text at memory speed: whole files into memory (gzip inflated transparently,
// detected by its magic bytes, never by the file name) and an RFC 4180 tokenizer over them.
// Lines have a length cap (kMaxLineBytes): inflating keeps at most cap + 1 bytes of a line, and
// the tokenizer refuses a record over the cap, so one giant line costs the cap, not its length.
//
// The tokenizer understands quoted fields with embedded commas, doubled quotes and newlines,
// LF and CRLF line ends, and a UTF-8 byte-order mark. Empty lines carry no record and are
// skipped (TLC CSVs have one after the header). Malformed quoting is an InvalidArgument error
// naming the file and line; the caller decides whether to stop or keep the line aside.
// Thread safety: a CsvTokenizer is used by one thread; the free functions are thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace bimride::data {

// The longest line (record) the tokenizer accepts; trip CSV lines are a few hundred bytes.
inline constexpr size_t kMaxLineBytes = size_t{1} << 20;

// True when `data` starts with the gzip magic bytes 1f 8b.
bool IsGzip(std::string_view data);

// Inflates a gzip stream (all members of a multi-member file). DataLoss naming `name` when the
// stream is corrupt or truncated. A line longer than `max_line_bytes` keeps only its first
// max_line_bytes + 1 bytes (still over the cap, so a CsvTokenizer with that cap refuses it).
StatusOr<std::string> GunzipBuffer(std::string_view data, std::string_view name,
                                   size_t max_line_bytes = kMaxLineBytes);

// Reads `path` whole, inflating it when it is gzip-compressed (lines capped as GunzipBuffer
// does). Errors name the path.
StatusOr<std::string> ReadMaybeGzipFile(const std::string& path,
                                        size_t max_line_bytes = kMaxLineBytes);

class CsvTokenizer {
 public:
  // `text` must outlive the tokenizer; `name` is used in error messages.
  CsvTokenizer(std::string_view text, std::string name, char delimiter = ',',
               size_t max_line_bytes = kMaxLineBytes);

  // Reads the next record into `fields` (views valid until the next call). Returns false at the
  // end of input; InvalidArgument "<name>: line N: <problem>" on malformed quoting or a record
  // longer than the cap. After an error the tokenizer has moved past the bad record, so reading
  // can go on.
  StatusOr<bool> Next(std::vector<std::string_view>* fields);

  // 1-based line on which the last record started.
  int64_t line() const { return record_line_; }
  // The raw text of the last record (or of the bad record after an error), without its line end;
  // of a record over the cap, its first kRawPrefixBytes.
  static constexpr size_t kRawPrefixBytes = 256;
  std::string_view raw() const { return raw_; }
  const std::string& name() const { return name_; }

 private:
  // Error for the record just read being over the cap; keeps raw() to its prefix.
  Status OverCap();

  std::string_view text_;
  std::string name_;
  char delimiter_;
  size_t max_line_bytes_;
  size_t pos_ = 0;
  int64_t line_ = 1;
  int64_t record_line_ = 0;
  std::string_view raw_;
  std::string scratch_;  // unescaped quoted fields
  struct Span {
    bool in_scratch;
    size_t begin;
    size_t size;
  };
  std::vector<Span> spans_;
};

// Header columns by name, case-insensitively.
class CsvHeader {
 public:
  CsvHeader() = default;
  explicit CsvHeader(const std::vector<std::string_view>& fields);
  // Index of the column, or -1.
  int Find(std::string_view name) const;
  bool Has(std::string_view name) const { return Find(name) >= 0; }
  size_t size() const { return names_.size(); }
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::vector<std::string> names_;  // lower-cased
};

}  // namespace bimride::data
