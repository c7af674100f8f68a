// DynamicBatcher: Triton-style dynamic batching for one model version. Callers enqueue requests
// of one or more rows; one batcher thread gathers queued requests into a batch of up to
// `max_batch_size` rows, waiting at most `max_queue_delay_us` after the oldest request arrived,
// runs one Model::Predict over the batch and scatters the outputs back to each request's
// callback.
//
// Thread safety: Enqueue may be called from any thread. Callbacks run on the batcher thread and
// must not block. The destructor stops accepting work, runs what is queued, then joins.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "models/model.h"
#include "serving/serving_metrics.h"

namespace bimride::serving {

struct BatchingOptions {
  int64_t max_batch_size = 0;         // rows per batch; 0 disables batching (predict inline)
  int64_t max_queue_delay_us = 200;   // how long the oldest request may wait for company
  int64_t max_queue_size = 1024;      // queued requests; beyond → ResourceExhausted (HTTP 429)
};

struct PredictTiming {
  int64_t queue_ns = 0;
  int64_t compute_ns = 0;
  int64_t batch_rows = 0;
};

// Called once per request with the request's rows × num_outputs outputs, or an error.
using RowsDone = std::function<void(Status status, std::vector<float> outputs, PredictTiming)>;

class DynamicBatcher {
 public:
  // `model` (and `batch_rows`, when not null: rows per executed batch) must outlive the batcher.
  DynamicBatcher(const models::Model& model, BatchingOptions options, std::string name,
                 Histogram* batch_rows = nullptr);
  ~DynamicBatcher();
  DynamicBatcher(const DynamicBatcher&) = delete;
  DynamicBatcher& operator=(const DynamicBatcher&) = delete;

  // Queues `rows` rows (rows × num_features floats). ResourceExhausted when the queue is full,
  // Unavailable after shutdown began; in those cases `features` and `done` are left untouched
  // (not moved from) and `done` is not called.
  Status Enqueue(std::vector<float>&& features, int64_t rows, RowsDone&& done);

  int64_t queued() const;

 private:
  struct Pending {
    std::vector<float> features;
    int64_t rows;
    RowsDone done;
    int64_t enqueue_ns;
  };
  void Run();
  void RunBatch(std::vector<Pending>& batch, int64_t rows);

  const models::Model& model_;
  const BatchingOptions options_;
  const std::string name_;
  Histogram* const batch_rows_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

int64_t MonotonicNanos();

}  // namespace bimride::serving
