// CanaryRouter: picks the model version that answers a request, and the shadow versions that
// get a mirrored copy, from one ModelSnapshot.
//
//  - an explicit version or label wins (NotFound when unknown, Unavailable when not AVAILABLE);
//  - otherwise the model's traffic split (e.g. stable 95 / canary 5) picks a label: by a hash
//    of the routing key when there is one (sticky: the same key always lands on the same side),
//    else round-robin over the weights; shares whose version is not AVAILABLE are skipped;
//  - otherwise the "stable" label, else the latest AVAILABLE version.
//
// Pure functions of their arguments plus one atomic counter; safe from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "serving/servable_manager.h"

namespace bimride::serving {

struct VersionSelector {
  std::optional<int64_t> version;
  std::string label;  // empty: none
};

struct Route {
  std::shared_ptr<const Servable> primary;
  std::vector<std::shared_ptr<const Servable>> shadows;
};

StatusOr<Route> RouteRequest(const ModelSnapshot& snapshot, const VersionSelector& selector,
                             std::string_view routing_key);

// Resolves one label or version-as-text against the snapshot; nullptr when not AVAILABLE.
std::shared_ptr<const Servable> ResolveTarget(const ModelSnapshot& snapshot,
                                              const std::string& label_or_version);

// The sticky hash, stable across processes and restarts: 64-bit FNV-1a's xor-multiply over the
// bytes, from offset 1469598103934665603 (a digit short of FNV-1a's standard basis; kept, since
// a change would move every sticky caller to another side of the split).
uint64_t StickyHash(std::string_view key);

}  // namespace bimride::serving
