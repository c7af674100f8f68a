// Naming the rank that broke a data-parallel job. Every rank keeps a heartbeat (a counter it
// bumps a few times a second) and its step count where the others can read them; when a
// collective fails, a rank reads every counter, waits, reads them again, and blames:
//   - a rank whose counter did not move: it stopped (died, or its host is gone);
//   - else the ranks furthest behind when they are behind this one: alive but hung;
//   - else nobody (the collective failed for another reason).
// Shared by LibTorch's process group (heartbeats in the c10d store, models/torch) and the
// XGBoost trainer (heartbeats through rank 0's hub, train/rank_heartbeats.h), so both engines
// word a failure the same way.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace bimride::models {

struct RankWatch {
  int self = 0;                        // the rank asking
  std::vector<int64_t> beats_before;   // per rank, read before the wait
  std::vector<int64_t> beats_after;    // per rank, read after it
  std::vector<int64_t> steps;          // per rank, its last published step (-1: none)
  double watched_seconds = 1;          // how long the wait was
  double timeout_seconds = 60;         // the collective's timeout (how long `self` waited)
};

// Unavailable "rank 1 (last heartbeat at step 6) stopped: no heartbeat for 1 s (<head>)",
// DeadlineExceeded "rank 1 is hung: alive, but has started only 6 steps while rank 0 waited
// 4 s in step 7 (<head>)", or Unavailable "a collective failed and every rank still has a
// heartbeat (<head>)". `head` is what the failed collective said, prefixed by the caller.
// The three vectors must have the same size (the world size); otherwise InvalidArgument.
Status NameFailedRank(const RankWatch& w, const std::string& head);

}  // namespace bimride::models
