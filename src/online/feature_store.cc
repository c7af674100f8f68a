#include "online/feature_store.h"

#include <chrono>
#include <map>
#include <mutex>
#include <unordered_map>

namespace bimride::online {
namespace {

using Clock = std::chrono::steady_clock;

class MemoryFeatureStore final : public FeatureStore {
 public:
  explicit MemoryFeatureStore(FeatureStoreOptions options) : options_(options) {}

  Status Add(std::string_view key, int64_t bucket, double delta) override {
    return Write(key, bucket, [delta](double& v) { v += delta; });
  }
  Status Set(std::string_view key, int64_t bucket, double value) override {
    return Write(key, bucket, [value](double& v) { v = value; });
  }

  StatusOr<std::vector<std::optional<double>>> Range(std::string_view key, int64_t first,
                                                     int count) override {
    if (count < 0) return InvalidArgumentError("online store: negative bucket count");
    std::vector<std::optional<double>> out(static_cast<size_t>(count));
    const Clock::time_point now = Clock::now();
    std::lock_guard<std::mutex> lock(mu_);
    auto it = keys_.find(std::string(key));
    if (it == keys_.end()) return out;
    for (auto b = it->second.lower_bound(first); b != it->second.end() && b->first < first + count;
         ++b) {
      if (!Expired(b->second, now)) out[static_cast<size_t>(b->first - first)] = b->second.value;
    }
    return out;
  }

  std::string Describe() const override { return "memory"; }

 private:
  struct Entry {
    double value = 0;
    Clock::time_point written;
  };

  bool Expired(const Entry& e, Clock::time_point now) const {
    return now - e.written > std::chrono::seconds(options_.ttl_seconds);
  }

  template <typename Update>
  Status Write(std::string_view key, int64_t bucket, Update update) {
    if (key.empty()) return InvalidArgumentError("online store: empty key");
    const Clock::time_point now = Clock::now();
    std::lock_guard<std::mutex> lock(mu_);
    auto& buckets = keys_[std::string(key)];
    Entry& e = buckets[bucket];
    if (Expired(e, now)) e.value = 0;  // an expired counter restarts at 0, as in Redis
    update(e.value);
    e.written = now;
    if (++writes_ % kSweepEvery == 0) Sweep(now);
    return Status::Ok();
  }

  // Drops expired entries so memory stays bounded by what was written within the TTL.
  void Sweep(Clock::time_point now) {
    for (auto k = keys_.begin(); k != keys_.end();) {
      for (auto b = k->second.begin(); b != k->second.end();) {
        b = Expired(b->second, now) ? k->second.erase(b) : std::next(b);
      }
      k = k->second.empty() ? keys_.erase(k) : std::next(k);
    }
  }

  static constexpr uint64_t kSweepEvery = 4096;
  FeatureStoreOptions options_;
  std::mutex mu_;
  std::unordered_map<std::string, std::map<int64_t, Entry>> keys_;
  uint64_t writes_ = 0;
};

}  // namespace

std::unique_ptr<FeatureStore> NewMemoryFeatureStore(FeatureStoreOptions options) {
  return std::make_unique<MemoryFeatureStore>(options);
}

StatusOr<std::unique_ptr<FeatureStore>> OpenFeatureStore(std::string_view url,
                                                         FeatureStoreOptions options) {
  if (options.ttl_seconds <= 0) {
    return InvalidArgumentError("online store: ttl_seconds must be positive");
  }
  if (url.empty() || url == "memory") return NewMemoryFeatureStore(options);
  return InvalidArgumentError("online store '" + std::string(url) +
                              "': unknown kind (expected 'memory')");
}

}  // namespace bimride::online
