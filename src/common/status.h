// Status and StatusOr<T>: errors as values, from the bottom of the stack up.
//
// A Status is either OK or carries a code and a one-line message that names the input and what
// was wrong ("green_2021-01.parquet: column 'fare_amount': page 3: bad ZSTD frame"). Codes map to
// an HTTP status in serving/ and to a CLI exit code in cli/ — in exactly one place each.
// Thread safety: values; safe to copy between threads.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace bimride {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller's input is malformed (bad flag, bad JSON, bad CSV line)
  kNotFound,            // a named thing does not exist (file, model, version, label)
  kAlreadyExists,       // creating something that is there already
  kFailedPrecondition,  // the system is not in a state to do this (e.g. model not loaded)
  kOutOfRange,          // a value outside the allowed range
  kDataLoss,            // stored data is corrupt or truncated (bad checksum, bad page)
  kUnimplemented,       // a valid but unsupported feature (e.g. a Parquet encoding)
  kResourceExhausted,   // queue full, disk full, body too large
  kUnavailable,         // transient: try again later
  kPermissionDenied,    // not allowed (read-only disk, missing token)
  kDeadlineExceeded,    // took too long
  kCancelled,           // stopped on request
  kInternal,            // a bug or an invariant broken inside us
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "NOT_FOUND: models/eta/3: no such version" — for logs and CLI errors.
  std::string ToString() const;

  // Returns a copy whose message is "<context>: <message>", keeping the code.
  Status WithContext(std::string_view context) const;

  bool operator==(const Status& other) const {
    return code_ == other.code_ && message_ == other.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
Status InvalidArgumentError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status FailedPreconditionError(std::string message);
Status OutOfRangeError(std::string message);
Status DataLossError(std::string message);
Status UnimplementedError(std::string message);
Status ResourceExhaustedError(std::string message);
Status UnavailableError(std::string message);
Status PermissionDeniedError(std::string message);
Status DeadlineExceededError(std::string message);
Status CancelledError(std::string message);
Status InternalError(std::string message);

// An error from errno, e.g. ErrnoError("open", "data.csv") -> "data.csv: open: No such file..."
// with a code chosen from errno (ENOENT -> kNotFound, EACCES/EROFS -> kPermissionDenied,
// ENOSPC -> kResourceExhausted, otherwise kInternal).
Status ErrnoError(std::string_view what, std::string_view path, int errnum);

// StatusOr<T> holds a T or a non-OK Status.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(const T& value) : value_(value) {}              // NOLINT: implicit by design
  StatusOr(T&& value) : value_(std::move(value)) {}        // NOLINT
  StatusOr(const Status& status) : status_(status) {       // NOLINT
    assert(!status_.ok() && "StatusOr built from an OK Status");
    if (status_.ok()) status_ = InternalError("StatusOr built from an OK Status");
  }
  StatusOr(Status&& status) : status_(std::move(status)) {  // NOLINT
    assert(!status_.ok() && "StatusOr built from an OK Status");
    if (status_.ok()) status_ = InternalError("StatusOr built from an OK Status");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  Status status_;  // OK when value_ holds a value
  std::optional<T> value_;
};

}  // namespace bimride

#define BIMRIDE_CONCAT_INNER(a, b) a##b
#define BIMRIDE_CONCAT(a, b) BIMRIDE_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function when `expr` is not OK.
#define RETURN_IF_ERROR(expr)                           \
  do {                                                  \
    ::bimride::Status bimride_status_ = (expr);         \
    if (!bimride_status_.ok()) return bimride_status_;  \
  } while (0)

// ASSIGN_OR_RETURN(auto x, MakeX()); declares/assigns x or returns the error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  BIMRIDE_ASSIGN_OR_RETURN_IMPL(BIMRIDE_CONCAT(bimride_statusor_, __LINE__), lhs, expr)
#define BIMRIDE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()
