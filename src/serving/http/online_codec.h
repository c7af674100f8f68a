// The body of POST /v1/online/<kind> (live events for the online store, e.g. demand pickups):
//
//   {"events": [{"zone": 74, "time": "2021-03-10 08:03:00"}, {"zone": 74, "time": "…"}]}
//
// Every event is an object of numbers and strings with the same fields as the first; what the
// fields mean is the recorder's (serving/feature_adapter.h). Errors name the event and field.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/status.h"
#include "serving/feature_adapter.h"

namespace bimride::serving::http {

StatusOr<RawBatch> ParseOnlineEventsRequest(std::string_view body, int64_t max_events);

}  // namespace bimride::serving::http
