// Replay: drives a running model server as a stream of real events would (#13 item 6). Each
// event is one request sent at its start time (a rider asking for an ETA at pickup) and one
// label posted to /v1/feedback at its end time (the trip's real duration when it ends), both on
// a simulated clock that runs `speedup` times faster than the wall clock from the first event.
// Task-neutral: the caller turns its data (trips) into request bodies and actual values.
//
// One keep-alive connection, requests in start-time order, each carrying its event's id as
// `x-request-id`; labels that fall due are posted before the next request, in batches of at
// most `feedback_batch`, and the ones still due at the end are posted last. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"

namespace bimride::serving::http {

struct ReplayEvent {
  int64_t start_us = 0;  // when the request is sent (simulated clock, e.g. the pickup time)
  int64_t end_us = 0;    // when its label is posted (e.g. the dropoff time); >= start_us
  std::string request_id;
  std::string body;      // the request body (JSON)
  double actual = 0;     // the label
  bool has_label = true;
};

struct ReplayOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string target;       // e.g. "/v1/models/eta:predict"
  double speedup = 0;       // simulated seconds per wall second; 0: as fast as possible
  int64_t feedback_batch = 500;
  // After each answered request (its id, HTTP status, body), e.g. to keep predictions.
  std::function<void(const ReplayEvent&, int status, const std::string& body)> on_answer;
};

struct ReplayStats {
  int64_t sent = 0;
  int64_t answered_ok = 0;
  int64_t failed = 0;               // non-200 answers and transport errors
  int64_t labels_posted = 0;
  int64_t labels_joined = 0;        // as the server counted them
  int64_t labels_waiting = 0;
  int64_t feedback_failures = 0;    // non-200 feedback posts
  double wall_seconds = 0;
  std::string first_error;          // the first failure's status and body, for the report
};

// Events are sorted by start time here (stably). InvalidArgument for an event whose end is
// before its start or an empty id/body, or bad options; Unavailable when the server cannot be
// reached at all.
StatusOr<ReplayStats> RunReplay(std::vector<ReplayEvent> events, const ReplayOptions& options);

}  // namespace bimride::serving::http
