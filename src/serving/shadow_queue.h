// ShadowQueue: runs mirrored ("shadow") requests off the request path. After the primary version
// has answered, the Service queues one ShadowMirror per shadow version; a worker thread computes
// the shadow version's own features from the request as sent (its own feature adapter, context
// and width: ComputeFeatures), runs them, compares its outputs with the primary's and records
// the largest absolute and relative differences on the shadow version's metrics
// (shadow_abs_diff, shadow_rel_diff). A request the shadow cannot take (another width, a missing
// raw field) is counted, not run. Shadow calls are counted in shadow_requests, apart from the
// version's real traffic. Shadow answers are never returned to anyone.
//
// Bounded: when `max_queue_size` mirrors are waiting (or the queue is stopped), a mirror is
// dropped and counted (the shadow version's `shadow_dropped` and dropped()); Enqueue never waits
// for the work, so a slow shadow can never slow primary traffic.
//
// Ownership: a queued mirror holds its shadow servable, so stop the queue before the
// ServableManager (Server::Shutdown does). Thread safety: every method may be called from any
// thread; Start and Stop from one controlling thread. The destructor calls Stop.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "monitoring/prediction_log.h"
#include "serving/model_input.h"
#include "serving/servable.h"

namespace bimride::serving {

struct ShadowQueueOptions {
  int64_t max_queue_size = 1024;  // waiting mirrors; beyond → dropped and counted
  int workers = 1;                // threads running mirrors
  // When set, each mirror of a logged request (ShadowMirror::request_id not empty) is logged
  // with route "shadow": the shadow version's features and outputs. Must outlive the queue.
  monitoring::PredictionLog* prediction_log = nullptr;
};

// One mirrored request: the request's inputs and the primary's outputs, and the version
// shadowing it.
struct ShadowMirror {
  std::shared_ptr<const Servable> shadow;
  int64_t primary_version = 0;
  int64_t rows = 0;
  ModelInput input;                    // as the client sent it (not the primary's features)
  std::vector<float> primary_outputs;  // rows × num_outputs, as the primary answered
  std::string request_id;              // the primary's, when the request was logged; else empty
};

class ShadowQueue {
 public:
  explicit ShadowQueue(ShadowQueueOptions options = {});
  ~ShadowQueue();
  ShadowQueue(const ShadowQueue&) = delete;
  ShadowQueue& operator=(const ShadowQueue&) = delete;

  // Starts the worker threads. Mirrors queued before Start wait for it. Idempotent.
  void Start();
  // Stops accepting mirrors, runs the queued ones (drops them, counted, when never started),
  // joins the workers. Idempotent.
  void Stop();

  // Queues `mirror`, or drops it (false; counted) when the queue is full or stopped.
  bool Enqueue(ShadowMirror mirror);
  // Blocks until every queued mirror has run (tests and shutdown). Needs Start.
  void Flush();

  int64_t queued() const;
  uint64_t completed() const;  // mirrors run (whatever their outcome)
  uint64_t dropped() const;

 private:
  void Run();
  void RunMirror(ShadowMirror& mirror);

  const ShadowQueueOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<ShadowMirror> queue_;
  int busy_ = 0;  // workers running a mirror
  bool stopping_ = false;
  uint64_t completed_ = 0;
  uint64_t dropped_ = 0;
  std::vector<std::thread> workers_;
};

}  // namespace bimride::serving
