#include "serving/canary_router.h"

#include <atomic>
#include <charconv>

namespace bimride::serving {
namespace {

std::atomic<uint64_t> round_robin{0};

bool ParseVersion(const std::string& text, int64_t* version) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *version);
  return ec == std::errc() && ptr == text.data() + text.size();
}

std::string StateOf(const ModelSnapshot& s, int64_t version) {
  auto it = s.states.find(version);
  return it == s.states.end() ? "not loaded" : std::string(VersionStateName(it->second));
}

}  // namespace

uint64_t StickyHash(std::string_view key) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::shared_ptr<const Servable> ResolveTarget(const ModelSnapshot& snapshot,
                                              const std::string& label_or_version) {
  int64_t version = 0;
  auto label = snapshot.labels.find(label_or_version);
  if (label != snapshot.labels.end()) {
    version = label->second;
  } else if (!ParseVersion(label_or_version, &version)) {
    return nullptr;
  }
  auto it = snapshot.available.find(version);
  return it == snapshot.available.end() ? nullptr : it->second;
}

StatusOr<Route> RouteRequest(const ModelSnapshot& snapshot, const VersionSelector& selector,
                             std::string_view routing_key) {
  Route route;
  const std::string& m = snapshot.name;
  if (selector.version.has_value()) {
    int64_t v = *selector.version;
    auto it = snapshot.available.find(v);
    if (it == snapshot.available.end()) {
      if (!snapshot.states.count(v)) {
        return NotFoundError("model '" + m + "' has no version " + std::to_string(v));
      }
      return UnavailableError("model '" + m + "' version " + std::to_string(v) +
                              " is not available (state " + StateOf(snapshot, v) + ")");
    }
    route.primary = it->second;
  } else if (!selector.label.empty()) {
    auto label = snapshot.labels.find(selector.label);
    if (label == snapshot.labels.end()) {
      return NotFoundError("model '" + m + "' has no label '" + selector.label + "'");
    }
    auto it = snapshot.available.find(label->second);
    if (it == snapshot.available.end()) {
      return UnavailableError("model '" + m + "' label '" + selector.label + "' points to version " +
                              std::to_string(label->second) + ", which is not available (state " +
                              StateOf(snapshot, label->second) + ")");
    }
    route.primary = it->second;
  } else {
    const RoutingConfig& rc = snapshot.routing;
    if (!rc.split.empty()) {
      // Only shares whose target is serving take part, so a missing canary never fails requests.
      std::shared_ptr<const Servable> targets[16];
      int64_t weights[16];
      int n = 0;
      int64_t total = 0;
      for (const TrafficShare& share : rc.split) {
        if (n == 16 || share.weight <= 0) continue;
        auto t = ResolveTarget(snapshot, share.label);
        if (!t) continue;
        targets[n] = std::move(t);
        weights[n++] = share.weight;
        total += share.weight;
      }
      if (total > 0) {
        uint64_t draw = routing_key.empty()
                            ? round_robin.fetch_add(1, std::memory_order_relaxed) * 0x9E3779B97F4A7C15ull
                            : StickyHash(routing_key);
        int64_t point = static_cast<int64_t>(draw % static_cast<uint64_t>(total));
        for (int i = 0; i < n; ++i) {
          if (point < weights[i]) {
            route.primary = targets[i];
            break;
          }
          point -= weights[i];
        }
      }
    }
    if (!route.primary) route.primary = ResolveTarget(snapshot, "stable");
    if (!route.primary && !snapshot.available.empty()) {
      route.primary = snapshot.available.rbegin()->second;
    }
    if (!route.primary) {
      return UnavailableError("model '" + m + "' has no AVAILABLE version");
    }
  }
  for (const std::string& s : snapshot.routing.shadow) {
    auto t = ResolveTarget(snapshot, s);
    if (t && t != route.primary) route.shadows.push_back(std::move(t));
  }
  return route;
}

}  // namespace bimride::serving
