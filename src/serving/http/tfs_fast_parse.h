// The fast path of TF Serving predict parsing: the request shapes a product team's client sends
// all day — {"instances": [{raw fields}, ...]} and {"instances": [[numbers], ...]} — parsed with
// simdjson straight into a ModelInput, without building nlohmann's tree.
//
// It gives exactly the TfsPredictRequest that ParseTfsPredictRequest's general path gives, or
// declines (nullopt) and leaves the body to the general path, which also names every error. It
// declines anything outside those shapes, any body with an escape sequence or a raw control
// character in it, duplicate keys, ragged rows, more than `max_rows` rows, and numbers that
// simdjson will not hold as a double or 64-bit integer. The tests and the fuzzer hold it to the
// general path on every body it accepts.
//
// Thread-safe (one reusable simdjson parser per thread).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "serving/http/tfs_codec.h"

namespace bimride::serving::http {

//
// More than `max_rows` rows in a body it would otherwise take: it declines and, when `refused` is
// given, sets it to the general path's OutOfRange error, so the caller can answer without the
// general path's full (slow, memory-hungry) parse of a body that is refused anyway.
std::optional<TfsPredictRequest> TryParseTfsPredictFast(std::string_view body, int64_t max_rows,
                                                        Status* refused = nullptr);

// The general path alone (nlohmann), for the tests and the fuzzer to compare against.
StatusOr<TfsPredictRequest> ParseTfsPredictRequestGeneral(std::string_view body,
                                                          int64_t max_rows);

}  // namespace bimride::serving::http
