// Small JSON text writers for the HTTP adapter's hot path (responses are built by appending to
// one string; no DOM). Thread-compatible free functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bimride::serving::http {

// Appends `s` as a quoted JSON string with escapes; ill-formed UTF-8 (a client's bytes quoted in
// an error) becomes U+FFFD, one per maximal ill-formed subsequence, so the text stays valid.
void AppendJsonString(std::string* out, std::string_view s);
// Appends the shortest decimal text that reads back as the same float (finite values only).
void AppendFloat(std::string* out, float v);
void AppendInt(std::string* out, int64_t v);
// {"error": "<message>"}. A message longer than kMaxErrorMessageBytes (one quoting megabytes
// of a request) is cut there and says its full size.
inline constexpr size_t kMaxErrorMessageBytes = 1024;
std::string ErrorBody(std::string_view message);

}  // namespace bimride::serving::http
