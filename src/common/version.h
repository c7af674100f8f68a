#pragma once

namespace bimride {
inline constexpr const char kVersion[] = "0.1.0";
}  // namespace bimride
