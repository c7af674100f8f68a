// WorkerPool: a few threads that run the HTTP requests too costly for an I/O thread — those
// with a body over a size (parsing 4 MB of JSON takes milliseconds of CPU, during which every
// other connection of that I/O thread would wait). A bounded queue: beyond it a request is
// refused (the caller answers 429) instead of piling up.
//
// Thread safety: Post from any thread; Stop from one controlling thread (idempotent; the
// destructor calls it). Tasks must not call Stop.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace bimride::serving::http {

class WorkerPool {
 public:
  WorkerPool(int threads, size_t max_queue);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`; false (task dropped, never run) when the queue is full or Stop has begun.
  bool Post(std::function<void()> task);
  // Runs what is queued, then joins the threads.
  void Stop();

 private:
  void Run();

  const size_t max_queue_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace bimride::serving::http
