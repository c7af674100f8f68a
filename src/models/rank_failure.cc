#include "models/rank_failure.h"

#include <algorithm>
#include <climits>
#include <cstdio>

namespace bimride::models {
namespace {

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

}  // namespace

Status NameFailedRank(const RankWatch& w, const std::string& head) {
  const size_t world = w.steps.size();
  if (w.beats_before.size() != world || w.beats_after.size() != world || w.self < 0 ||
      static_cast<size_t>(w.self) >= world) {
    return InvalidArgumentError("NameFailedRank: heartbeats of " +
                                std::to_string(w.beats_before.size()) + " and " +
                                std::to_string(w.beats_after.size()) + " ranks, steps of " +
                                std::to_string(world) + ", rank " + std::to_string(w.self));
  }
  std::string dead;
  for (size_t r = 0; r < world; ++r) {
    if (static_cast<int>(r) != w.self && w.beats_after[r] == w.beats_before[r]) {
      dead += (dead.empty() ? "" : ", ") + std::to_string(r) + " (last heartbeat at step " +
              std::to_string(w.steps[r]) + ")";
    }
  }
  if (!dead.empty()) {
    return UnavailableError("rank " + dead + " stopped: no heartbeat for " +
                            Seconds(w.watched_seconds) + " s (" + head + ")");
  }
  int64_t lo = INT64_MAX;
  for (int64_t s : w.steps) lo = std::min(lo, s);
  std::string behind;
  for (size_t r = 0; r < world; ++r) {
    if (w.steps[r] == lo && w.steps[r] < w.steps[w.self]) {
      behind += (behind.empty() ? "" : ", ") + std::to_string(r);
    }
  }
  if (!behind.empty()) {
    return DeadlineExceededError("rank " + behind + " is hung: alive, but has started only " +
                                 std::to_string(lo) + " steps while rank " +
                                 std::to_string(w.self) + " waited " +
                                 Seconds(w.timeout_seconds) + " s in step " +
                                 std::to_string(w.steps[w.self]) + " (" + head + ")");
  }
  return UnavailableError("a collective failed and every rank still has a heartbeat (" + head +
                          ")");
}

}  // namespace bimride::models
