#include "online/feature_store.h"

#include "common/redact.h"

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
    return Write(key, bucket, 0, [delta](double& v) { v += delta; });
  }
  Status Set(std::string_view key, int64_t bucket, double value) override {
    return Write(key, bucket, 0, [value](double& v) { v = value; });
  }
  Status AddMany(std::span<const Increment> increments) override {
    for (const Increment& i : increments) {
      const double delta = i.delta;
      RETURN_IF_ERROR(Write(i.key, i.bucket, i.ttl_seconds, [delta](double& v) { v += delta; }));
    }
    return Status::Ok();
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
    int64_t ttl_seconds = 0;  // 0: the store's
  };

  bool Expired(const Entry& e, Clock::time_point now) const {
    return now - e.written >
           std::chrono::seconds(e.ttl_seconds > 0 ? e.ttl_seconds : options_.ttl_seconds);
  }

  template <typename Update>
  Status Write(std::string_view key, int64_t bucket, int64_t ttl_seconds, Update update) {
    if (key.empty()) return InvalidArgumentError("online store: empty key");
    const Clock::time_point now = Clock::now();
    std::lock_guard<std::mutex> lock(mu_);
    auto& buckets = keys_[std::string(key)];
    Entry& e = buckets[bucket];
    if (Expired(e, now)) e.value = 0;  // an expired counter restarts at 0, as in Redis
    update(e.value);
    e.written = now;
    e.ttl_seconds = ttl_seconds;
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

std::mutex& KindsMu() {
  static std::mutex mu;
  return mu;
}
std::map<std::string, FeatureStoreOpener>& Kinds() {
  static auto* kinds = new std::map<std::string, FeatureStoreOpener>();
  return *kinds;
}

}  // namespace

Status FeatureStore::AddMany(std::span<const Increment> increments) {
  for (const Increment& i : increments) RETURN_IF_ERROR(Add(i.key, i.bucket, i.delta));
  return Status::Ok();
}

StatusOr<std::vector<std::vector<std::optional<double>>>> FeatureStore::RangeMany(
    std::span<const RangeQuery> queries) {
  std::vector<std::vector<std::optional<double>>> out;
  out.reserve(queries.size());
  for (const RangeQuery& q : queries) {
    ASSIGN_OR_RETURN(std::vector<std::optional<double>> r, Range(q.key, q.first, q.count));
    out.push_back(std::move(r));
  }
  return out;
}

void FeatureStore::CountFallback(std::string_view reader, std::string_view fallback, int64_t rows) {
  std::lock_guard<std::mutex> lock(fallback_mu_);
  fallbacks_[{std::string(reader), std::string(fallback)}] += rows;
}

std::map<std::pair<std::string, std::string>, int64_t> FeatureStore::FallbackCounts() const {
  std::lock_guard<std::mutex> lock(fallback_mu_);
  return fallbacks_;
}

bool RegisterFeatureStoreKind(const std::string& scheme, FeatureStoreOpener opener) {
  std::lock_guard<std::mutex> lock(KindsMu());
  Kinds()[scheme] = std::move(opener);
  return true;
}

std::unique_ptr<FeatureStore> NewMemoryFeatureStore(FeatureStoreOptions options) {
  return std::make_unique<MemoryFeatureStore>(options);
}

StatusOr<std::unique_ptr<FeatureStore>> OpenFeatureStore(std::string_view url,
                                                         FeatureStoreOptions options) {
  if (options.ttl_seconds <= 0) {
    return InvalidArgumentError("online store: ttl_seconds must be positive");
  }
  if (url.empty() || url == "memory") return NewMemoryFeatureStore(options);
  FeatureStoreOpener opener;
  std::string known = "memory";
  {
    std::lock_guard<std::mutex> lock(KindsMu());
    const size_t colon = url.find("://");
    if (colon != std::string_view::npos) {
      if (auto it = Kinds().find(std::string(url.substr(0, colon))); it != Kinds().end()) {
        opener = it->second;
      }
    }
    for (const auto& [scheme, unused] : Kinds()) known += ", " + scheme + "://";
  }
  if (!opener) {
    return InvalidArgumentError("online store '" + RedactUrl(url) + "': unknown kind (expected " +
                                known + ")");
  }
  return opener(url, options);
}

}  // namespace bimride::online
