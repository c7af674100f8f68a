#include "serving/http/json_text.h"

#include <charconv>
#include <string>

namespace bimride::serving::http {

namespace {

// The length of the well-formed UTF-8 sequence starting at s[i] (2..4), or 0 with `*bad` set to
// the length of its maximal ill-formed prefix (Unicode's "maximal subpart"; at least 1).
size_t Utf8Sequence(std::string_view s, size_t i, size_t* bad) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // UTF-16 surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // beyond U+10FFFF
  }
  *bad = 1;
  if (len == 0) return 0;
  for (size_t k = 1; k < len; ++k) {
    if (i + k >= s.size()) return 0;
    const unsigned char b = static_cast<unsigned char>(s[i + k]);
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return 0;
    *bad = k + 1;
  }
  return len;
}

}  // namespace

void AppendJsonString(std::string* out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (size_t i = 0; i < s.size(); ++i) {
    const char ch = s[i];
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20) {
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 15]);
        } else if (c < 0x80) {
          out->push_back(ch);
        } else if (size_t bad = 0, len = Utf8Sequence(s, i, &bad); len > 0) {
          out->append(s.substr(i, len));
          i += len - 1;
        } else {
          // Client bytes quoted in a message must not make the body invalid JSON / UTF-8.
          out->append("\xEF\xBF\xBD");  // U+FFFD
          i += bad - 1;
        }
    }
  }
  out->push_back('"');
}

void AppendFloat(std::string* out, float v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr);
}

void AppendInt(std::string* out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr);
}

std::string ErrorBody(std::string_view message) {
  std::string out = "{\"error\": ";
  if (message.size() <= kMaxErrorMessageBytes) {
    AppendJsonString(&out, message);
  } else {
    // A sequence cut in two becomes U+FFFD (AppendJsonString), so the text stays valid.
    std::string cut(message.substr(0, kMaxErrorMessageBytes));
    cut += "… (" + std::to_string(message.size()) + " bytes in all)";
    AppendJsonString(&out, cut);
  }
  out += "}";
  return out;
}

}  // namespace bimride::serving::http
