#include "monitoring/pending_rows.h"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <functional>

#include "common/hash.h"

namespace bimride::monitoring {

uint64_t PendingRowHash(std::string_view request_id, int64_t row) {
  // The id's hash and the row, mixed by splitmix64's finalizer: the index uses the low bits.
  return MixBits64(std::hash<std::string_view>{}(request_id) ^
                   (static_cast<uint64_t>(row) * 0x9e3779b97f4a7c15ull));
}

void* AllocateZeroedHuge(size_t bytes) {
  constexpr size_t kHuge = size_t{2} << 20;
  if (bytes < kHuge) return std::calloc(1, bytes);
  bytes = (bytes + kHuge - 1) / kHuge * kHuge;
  void* p = std::aligned_alloc(kHuge, bytes);
  if (p == nullptr) return nullptr;
#ifdef MADV_HUGEPAGE
  (void)madvise(p, bytes, MADV_HUGEPAGE);  // a hint: ignored where unsupported
#endif
  std::memset(p, 0, bytes);
  return p;
}

}  // namespace bimride::monitoring
