#include "serving/dynamic_batcher.h"

#include <chrono>

#include "common/thread_name.h"

namespace bimride::serving {

int64_t MonotonicNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

DynamicBatcher::DynamicBatcher(const models::Model& model, BatchingOptions options,
                               std::string name, Histogram* batch_rows)
    : model_(model), options_(options), name_(std::move(name)), batch_rows_(batch_rows) {
  thread_ = std::thread([this] {
    NameThisThread("batcher");
    Run();
  });
}

DynamicBatcher::~DynamicBatcher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

int64_t DynamicBatcher::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int64_t>(queue_.size());
}

Status DynamicBatcher::Enqueue(std::vector<float>&& features, int64_t rows, RowsDone&& done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return UnavailableError(name_ + ": shutting down");
    if (static_cast<int64_t>(queue_.size()) >= options_.max_queue_size) {
      return ResourceExhaustedError(name_ + ": batch queue full (" +
                                    std::to_string(options_.max_queue_size) +
                                    " requests waiting); retry later");
    }
    queue_.push_back({std::move(features), rows, std::move(done), MonotonicNanos()});
  }
  cv_.notify_one();
  return OkStatus();
}

void DynamicBatcher::Run() {
  const int64_t max_rows = options_.max_batch_size > 0 ? options_.max_batch_size : 1;
  std::vector<Pending> batch;
  for (;;) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping and drained
    // Wait for company until the oldest request's deadline or a full batch.
    const auto deadline = std::chrono::steady_clock::time_point(
        std::chrono::nanoseconds(queue_.front().enqueue_ns + options_.max_queue_delay_us * 1000));
    auto queued_rows = [&] {
      int64_t n = 0;
      for (const Pending& p : queue_) {
        n += p.rows;
        if (n >= max_rows) break;
      }
      return n;
    };
    while (!stopping_ && queued_rows() < max_rows &&
           cv_.wait_until(lock, deadline) != std::cv_status::timeout) {
    }
    int64_t rows = 0;
    batch.clear();
    while (!queue_.empty() && (batch.empty() || rows + queue_.front().rows <= max_rows)) {
      rows += queue_.front().rows;
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    lock.unlock();
    RunBatch(batch, rows);
  }
}

void DynamicBatcher::RunBatch(std::vector<Pending>& batch, int64_t rows) {
  const int64_t start = MonotonicNanos();
  const int width = model_.num_features();
  const int outs = model_.num_outputs();
  std::vector<float> outputs(static_cast<size_t>(rows) * outs);
  Status status;
  if (batch.size() == 1) {
    status = model_.Predict(batch[0].features.data(), rows, outputs.data());
  } else {
    std::vector<float> features;
    features.reserve(static_cast<size_t>(rows) * width);
    for (const Pending& p : batch) {
      features.insert(features.end(), p.features.begin(), p.features.end());
    }
    status = model_.Predict(features.data(), rows, outputs.data());
  }
  const int64_t end = MonotonicNanos();
  if (batch_rows_ != nullptr) batch_rows_->Observe(static_cast<double>(rows));
  int64_t offset = 0;
  for (Pending& p : batch) {
    PredictTiming timing{start - p.enqueue_ns, end - start, rows};
    std::vector<float> mine;
    if (status.ok()) {
      if (batch.size() == 1) {
        mine = std::move(outputs);
      } else {
        mine.assign(outputs.begin() + offset * outs, outputs.begin() + (offset + p.rows) * outs);
      }
    }
    offset += p.rows;
    p.done(status, std::move(mine), timing);
  }
}

}  // namespace bimride::serving
