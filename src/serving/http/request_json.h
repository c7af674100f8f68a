// Shared pieces of the TF Serving and KServe request parsers: turning JSON values into rows of
// floats or raw-field columns with clear errors. Internal to serving/http.
#pragma once

#include <nlohmann/json.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "serving/feature_adapter.h"
#include "serving/request_tensors.h"  // ToFloat

namespace bimride::serving::http {

// Appends every number in `v` (a number or arbitrarily nested arrays of numbers) to `out`.
// InvalidArgument naming `what` for strings, objects, booleans or nesting deeper than 16.
Status FlattenNumbers(const nlohmann::json& v, const std::string& what, std::vector<float>* out,
                      int depth = 0);

// A scalar raw field value: number or string. InvalidArgument naming `what` otherwise — true
// and false included: no raw field is a boolean, and one taken as 1/0 would pass as zone 1.
StatusOr<RawValue> ToRawValue(const nlohmann::json& v, const std::string& what);

// Parses JSON text without exceptions; InvalidArgument "malformed JSON: …" on error.
StatusOr<nlohmann::json> ParseJsonBody(std::string_view body);

// The OutOfRange error of a list of rows longer than the limit, in the same words wherever it is
// found: "<list> has more than <max_rows> rows; the limit is <max_rows>".
Status TooManyRows(const std::string& list, int64_t max_rows);

// Bodies larger than this have their rows counted by a RowLimitScan before anything else is done
// with them; smaller ones are cheap enough to parse whole first.
constexpr size_t kScanRowsAbove = 64 << 10;

// What a row-limit scan found: `status` is OK, or the TooManyRows error of the first list of
// rows over the limit (malformed JSON is OK here: the full parse names the error). The scan stops
// there: `values_read` (JSON values read before it stopped) is what it cost.
struct RowScan {
  Status status;
  int64_t values_read = 0;
};

// A SAX pass over a body that builds no tree and stops at the first list of rows longer than
// the limit, so a body of a million rows costs a thousand. Subclasses say what a list of rows is
// (OnValue, seeing the path of open containers). Not thread-safe; one per scan.
class RowLimitScan : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit RowLimitScan(int64_t max_rows) : max_rows_(max_rows) {}
  RowScan Run(std::string_view body);

  bool null() override { return Value(nullptr, nullptr, false); }
  bool boolean(bool) override { return Value(nullptr, nullptr, false); }
  bool number_integer(number_integer_t v) override { return Number(static_cast<double>(v)); }
  bool number_unsigned(number_unsigned_t v) override { return Number(static_cast<double>(v)); }
  bool number_float(number_float_t v, const string_t&) override { return Number(v); }
  bool string(string_t& s) override { return Value(nullptr, &s, false); }
  bool binary(binary_t&) override { return Value(nullptr, nullptr, false); }
  bool start_object(std::size_t) override;
  bool key(string_t& k) override;
  bool end_object() override;
  bool start_array(std::size_t) override;
  bool end_array() override;
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 protected:
  // An open array or object: its key in the enclosing object, and for an array the values it
  // has had so far.
  struct Frame {
    bool array = false;
    std::string key;  // of the value being read, for an object
    int64_t count = 0;
  };
  // Every value, once the enclosing array's count includes it; `number` for numbers, `text` for
  // strings, `array` for the start of an array. `open()` is the path down to the value's parent.
  // Returns false (after Refuse) to stop.
  virtual bool OnValue(const double* number, const std::string* text, bool array) = 0;
  bool Refuse(const std::string& list) {
    status_ = TooManyRows(list, max_rows_);
    return false;
  }
  const std::vector<Frame>& open() const { return open_; }
  const int64_t max_rows_;

 private:
  bool Number(double v) { return Value(&v, nullptr, false); }
  bool Value(const double* number, const std::string* text, bool array);
  std::vector<Frame> open_;
  Status status_;
  int64_t values_read_ = 0;
};

}  // namespace bimride::serving::http
