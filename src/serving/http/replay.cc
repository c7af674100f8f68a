#include "serving/http/replay.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>
#include <queue>
#include <thread>

#include <nlohmann/json.hpp>

#include "serving/http/http_client.h"

namespace bimride::serving::http {
namespace {

struct DueLabel {
  int64_t end_us;
  size_t event;
  bool operator>(const DueLabel& o) const {
    return end_us != o.end_us ? end_us > o.end_us : event > o.event;
  }
};

}  // namespace

StatusOr<ReplayStats> RunReplay(std::vector<ReplayEvent> events, const ReplayOptions& options) {
  if (options.port <= 0 || options.port > 65535) {
    return InvalidArgumentError("replay: port must be 1..65535");
  }
  if (options.target.empty() || options.target[0] != '/') {
    return InvalidArgumentError("replay: target must be a path such as /v1/models/eta:predict");
  }
  if (!(options.speedup >= 0) || options.feedback_batch < 1) {
    return InvalidArgumentError("replay: speedup must be >= 0 and feedback_batch >= 1");
  }
  for (size_t i = 0; i < events.size(); ++i) {
    const ReplayEvent& e = events[i];
    if (e.request_id.empty() || e.body.empty()) {
      return InvalidArgumentError("replay: event " + std::to_string(i) + " has no id or body");
    }
    if (e.end_us < e.start_us) {
      return InvalidArgumentError("replay: event " + e.request_id + " ends before it starts");
    }
  }
  std::stable_sort(events.begin(), events.end(), [](const ReplayEvent& a, const ReplayEvent& b) {
    return a.start_us < b.start_us;
  });
  HttpClient client(options.host, options.port);
  ReplayStats stats;
  std::priority_queue<DueLabel, std::vector<DueLabel>, std::greater<>> due;
  const auto wall_start = std::chrono::steady_clock::now();
  const int64_t sim_start = events.empty() ? 0 : events.front().start_us;

  auto post_labels = [&](int64_t until_us) -> Status {
    while (!due.empty() && due.top().end_us <= until_us) {
      nlohmann::json items = nlohmann::json::array();
      while (!due.empty() && due.top().end_us <= until_us &&
             static_cast<int64_t>(items.size()) < options.feedback_batch) {
        const ReplayEvent& e = events[due.top().event];
        items.push_back({{"request_id", e.request_id}, {"actual", e.actual}});
        due.pop();
      }
      const nlohmann::json body = {{"feedback", items}};
      StatusOr<ClientResponse> r = client.Post("/v1/feedback", body.dump());
      if (!r.ok()) return r.status().WithContext("replay: posting feedback");
      stats.labels_posted += static_cast<int64_t>(items.size());
      if (r->status != 200) {
        ++stats.feedback_failures;
        if (stats.first_error.empty()) {
          stats.first_error = "feedback: HTTP " + std::to_string(r->status) + ": " + r->body;
        }
        continue;
      }
      nlohmann::json j = nlohmann::json::parse(r->body, nullptr, false);
      if (j.is_object()) {
        stats.labels_joined += j.value("joined", int64_t{0});
        stats.labels_waiting += j.value("waiting", int64_t{0});
      }
    }
    return OkStatus();
  };

  for (size_t i = 0; i < events.size(); ++i) {
    const ReplayEvent& e = events[i];
    if (options.speedup > 0) {
      // Sleep until the simulated clock reaches the event, posting labels that fall due first.
      const auto at = wall_start + std::chrono::microseconds(static_cast<int64_t>(
                                       static_cast<double>(e.start_us - sim_start) /
                                       options.speedup));
      if (at > std::chrono::steady_clock::now()) std::this_thread::sleep_until(at);
    }
    RETURN_IF_ERROR(post_labels(e.start_us));
    StatusOr<ClientResponse> r =
        client.Send("POST", options.target, e.body, {{"x-request-id", e.request_id}});
    ++stats.sent;
    if (!r.ok()) {
      if (stats.answered_ok == 0 && stats.failed == 0) {
        return UnavailableError("replay: no answer from " + options.host + ":" +
                                std::to_string(options.port) + ": " + r.status().message());
      }
      ++stats.failed;
      if (stats.first_error.empty()) stats.first_error = r.status().ToString();
      continue;
    }
    if (r->status == 200) {
      ++stats.answered_ok;
      if (e.has_label) due.push({e.end_us, i});
    } else {
      ++stats.failed;
      if (stats.first_error.empty()) {
        stats.first_error = e.request_id + ": HTTP " + std::to_string(r->status) + ": " + r->body;
      }
    }
    if (options.on_answer) options.on_answer(e, r->status, r->body);
  }
  RETURN_IF_ERROR(post_labels(std::numeric_limits<int64_t>::max()));
  stats.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return stats;
}

}  // namespace bimride::serving::http
