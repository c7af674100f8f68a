#include "online/feature_store.h"

#include <chrono>
#include <limits>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "common/redact.h"

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
  FeatureStoreHealth Health() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return {.entries = entries_};
  }

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
    auto [k, inserted] = keys_.try_emplace(std::string(key));
    if (inserted) sweep_keys_.push_back(k->first);
    auto [b, added] = k->second.try_emplace(bucket);
    Entry& e = b->second;
    if (added) ++entries_;
    if (Expired(e, now)) e.value = 0;  // an expired counter restarts at 0, as in Redis
    update(e.value);
    e.written = now;
    e.ttl_seconds = ttl_seconds;
    SweepSome(now);
    return Status::Ok();
  }

  // Drops expired entries so memory stays bounded by what was written within the TTL, a few at
  // a time: each write visits at most kSweepBudget entries, resuming where the last one stopped
  // (key by key in sweep_keys_, bucket by bucket within a key). A write adds at most one entry
  // and visits up to kSweepBudget, so every entry is visited within entries ÷ (kSweepBudget − 1)
  // writes, and no write pays for a walk over the whole store under the lock (a full sweep of
  // 2M live entries every 4096 writes stalled every request behind it for tens of ms).
  void SweepSome(Clock::time_point now) {
    int budget = kSweepBudget;
    while (budget > 0 && !sweep_keys_.empty()) {
      if (sweep_key_ >= sweep_keys_.size()) sweep_key_ = 0;
      auto k = keys_.find(sweep_keys_[sweep_key_]);
      std::map<int64_t, Entry>& buckets = k->second;
      auto b = buckets.lower_bound(sweep_bucket_);
      for (; b != buckets.end() && budget > 0; --budget) {
        if (Expired(b->second, now)) {
          b = buckets.erase(b);
          --entries_;
        } else {
          ++b;
        }
      }
      if (b != buckets.end()) {
        sweep_bucket_ = b->first;  // this key's next entry, next time
        return;
      }
      sweep_bucket_ = std::numeric_limits<int64_t>::min();
      if (buckets.empty()) {
        keys_.erase(k);  // its name leaves sweep_keys_; the last key takes its place
        if (sweep_key_ + 1 < sweep_keys_.size()) {
          sweep_keys_[sweep_key_] = std::move(sweep_keys_.back());
        }
        sweep_keys_.pop_back();
      } else {
        ++sweep_key_;
      }
      --budget;  // a key visited counts, so a run of empty keys is bounded too
    }
  }

  static constexpr int kSweepBudget = 16;
  FeatureStoreOptions options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::map<int64_t, Entry>> keys_;
  std::vector<std::string> sweep_keys_;  // every key of keys_, in the sweep's order
  size_t sweep_key_ = 0;                 // the sweep's place: sweep_keys_[sweep_key_] …
  int64_t sweep_bucket_ = std::numeric_limits<int64_t>::min();  // … from this bucket on
  int64_t entries_ = 0;
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
