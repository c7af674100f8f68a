// Secrets out of what we print: a store's URL with its password masked, for messages and logs
// (registry stores, online stores).
#pragma once

#include <string>
#include <string_view>

namespace bimride {

// The location with any password masked: "postgresql://ana:***@db/r", "redis://:***@h:6379",
// "…?password=***"; a location without one unchanged.
std::string RedactUrl(std::string_view location);

}  // namespace bimride
