// PendingRows: logged rows waiting for their labels, oldest first, found by (request id, row).
//
// The live monitor keeps up to a million of these and, under full logging, adds one and drops
// the oldest for every served row, on the prediction log's writer thread. A node-based hash map
// keyed by a built "id + row" string paid for a key string, a node and a chain of pointers per
// row, and its cache misses grew as it filled (BENCHMARKS.md, "Prediction logging cost"). Here
// the rows sit in a ring (a deque: added at the back, dropped at the front) and an open-addressing
// index (linear probing, at most half full; deletion by backward shift, so no tombstones) maps
// a key's hash to the row's sequence number: a lookup hashes the key once and reads a slot or
// two and the row it names.
//
// Value: what the caller keeps per row. Not thread-safe (the monitor holds its mutex).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bimride::monitoring {

// The hash of a row key; PendingRows' index is built on it.
uint64_t PendingRowHash(std::string_view request_id, int64_t row);
// `bytes` of zeroed memory, 2 MiB-aligned and advised onto transparent huge pages (madvise,
// before the first touch) when it is that large; freed with std::free. Null when out of memory.
void* AllocateZeroedHuge(size_t bytes);

template <typename Value>
class PendingRows {
 public:
  struct Row {
    std::string request_id;
    int64_t row = 0;
    uint64_t hash = 0;
    Value value{};
  };

  size_t size() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }

  // The row with this key, or null.
  Row* Find(std::string_view request_id, int64_t row) {
    return FindHashed(request_id, row, PendingRowHash(request_id, row));
  }

  // The row with this key, added at the back (the newest) when absent; `added` says which.
  Row& FindOrAdd(std::string_view request_id, int64_t row, bool* added) {
    const uint64_t hash = PendingRowHash(request_id, row);
    if (Row* found = FindHashed(request_id, row, hash)) {
      *added = false;
      return *found;
    }
    *added = true;
    if (2 * (rows_.size() + 1) > slots_size_) Grow();
    const uint32_t number = static_cast<uint32_t>(first_seq_ + rows_.size()) + 1;
    rows_.push_back(Row{std::string(request_id), row, hash, Value{}});
    size_t i = Home(Tag(hash));
    while (slots_[i].number != 0) i = (i + 1) & Mask();
    slots_[i] = Slot{number, Tag(hash)};
    return rows_.back();
  }

  Row& front() { return rows_.front(); }

  // Drops the oldest row.
  void pop_front() {
    if (rows_.empty()) return;
    const uint32_t number = static_cast<uint32_t>(first_seq_) + 1;
    size_t i = Home(Tag(rows_.front().hash));
    while (slots_[i].number != number) i = (i + 1) & Mask();
    // Backward shift: move later slots of the probe run into the hole when their home slot is
    // not between the hole and them (cyclically), so every key stays reachable from its home.
    size_t j = i;
    for (;;) {
      j = (j + 1) & Mask();
      if (slots_[j].number == 0) break;
      const size_t home = Home(slots_[j].tag);
      const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (stays) continue;
      slots_[i] = slots_[j];
      i = j;
    }
    slots_[i] = Slot{};
    rows_.pop_front();
    ++first_seq_;
  }

 private:
  // 8 bytes: a million pending rows index in 16 MB (advised onto huge pages: the slots are read
  // at random, and on a virtual machine a TLB miss costs as much as the cache miss).
  struct Slot {
    uint32_t number = 0;  // the row's sequence number + 1, modulo 2^32 (0: empty); fewer than
                          // 2^31 rows are ever pending, so it names one row
    uint32_t tag = 0;     // the hash's high half; its low bits are the home slot
  };
  static uint32_t Tag(uint64_t hash) { return static_cast<uint32_t>(hash >> 32); }
  size_t Mask() const { return slots_size_ - 1; }
  size_t Home(uint32_t tag) const { return tag & Mask(); }

  Row* FindHashed(std::string_view request_id, int64_t row, uint64_t hash) {
    if (slots_size_ == 0) return nullptr;
    const uint32_t tag = Tag(hash);
    for (size_t i = Home(tag); slots_[i].number != 0; i = (i + 1) & Mask()) {
      if (slots_[i].tag != tag) continue;
      const uint32_t offset = slots_[i].number - 1 - static_cast<uint32_t>(first_seq_);
      Row& r = rows_[offset];
      if (r.hash == hash && r.row == row && r.request_id == request_id) return &r;
    }
    return nullptr;
  }

  void Grow() {
    const size_t size = slots_size_ == 0 ? 64 : 2 * slots_size_;
    SlotArray bigger(static_cast<Slot*>(AllocateZeroedHuge(size * sizeof(Slot))));
    if (bigger == nullptr) throw std::bad_alloc();
    const size_t mask = size - 1;
    for (size_t k = 0; k < rows_.size(); ++k) {
      const uint32_t tag = Tag(rows_[k].hash);
      size_t i = tag & mask;
      while (bigger[i].number != 0) i = (i + 1) & mask;
      bigger[i] = Slot{static_cast<uint32_t>(first_seq_ + k) + 1, tag};
    }
    slots_ = std::move(bigger);
    slots_size_ = size;
  }

  struct Free {
    void operator()(Slot* p) const { std::free(p); }
  };
  using SlotArray = std::unique_ptr<Slot[], Free>;

  std::deque<Row> rows_;     // rows_[k] has sequence number first_seq_ + k
  uint64_t first_seq_ = 0;   // the oldest row's
  SlotArray slots_;         // slots_size_ of them: a power of two (at most 2^31), at most
  size_t slots_size_ = 0;   // half full
};

}  // namespace bimride::monitoring
