#include "serving/http/online_codec.h"

#include "serving/http/request_json.h"

namespace bimride::serving::http {

StatusOr<RawBatch> ParseOnlineEventsRequest(std::string_view body, int64_t max_events) {
  ASSIGN_OR_RETURN(nlohmann::json doc, ParseJsonBody(body));
  if (!doc.is_object()) return InvalidArgumentError("body must be a JSON object {\"events\": […]}");
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    if (it.key() != "events") {
      return InvalidArgumentError("unknown key '" + it.key() + "' (expected 'events')");
    }
  }
  auto events = doc.find("events");
  if (events == doc.end()) return InvalidArgumentError("missing 'events'");
  if (!events->is_array() || events->empty()) {
    return InvalidArgumentError("'events' must be a non-empty list of objects");
  }
  if (static_cast<int64_t>(events->size()) > max_events) return TooManyRows("events", max_events);
  RawBatch batch;
  const nlohmann::json& first = (*events)[0];
  if (!first.is_object() || first.empty()) {
    return InvalidArgumentError("events[0]: must be a non-empty object");
  }
  for (auto it = first.begin(); it != first.end(); ++it) batch.columns.push_back({it.key(), {}});
  for (size_t r = 0; r < events->size(); ++r) {
    const nlohmann::json& e = (*events)[r];
    const std::string what = "events[" + std::to_string(r) + "]";
    if (!e.is_object() || e.size() != batch.columns.size()) {
      return InvalidArgumentError(what + ": every event must have the same fields as events[0]");
    }
    for (RawColumn& c : batch.columns) {
      auto v = e.find(c.name);
      if (v == e.end()) return InvalidArgumentError(what + ": missing field '" + c.name + "'");
      ASSIGN_OR_RETURN(RawValue value, ToRawValue(*v, what + "." + c.name));
      c.values.push_back(std::move(value));
    }
  }
  batch.rows = static_cast<int64_t>(events->size());
  return batch;
}

}  // namespace bimride::serving::http
