// The process-wide cache of large workspace blocks behind AlignedBuffer
// (workspace.hpp says why). A call takes the smallest cached block that is
// large enough (and at most 4x the request, so a small tile does not pin a
// large block); blocks given back stay cached while the cache holds at most
// kMaxBlocks blocks and kMaxBytes in all, the oldest freed first beyond that.
// So the memory a call holds is unchanged; what changes is that it stays
// mapped between calls, up to kMaxBytes (convbp.release_workspace() frees it).
#include <cstdlib>
#include <mutex>
#include <new>
#include <vector>

#include "convbp/runtime.hpp"
#include "drivers/workspace.hpp"

namespace convbp {

namespace {

constexpr size_t kMinCached = size_t(64) << 10;
constexpr size_t kMaxBlocks = 32;
constexpr size_t kMaxBytes = size_t(512) << 20;

struct Block {
  void* p;
  size_t cap;
};

struct Cache {
  std::mutex m;
  std::vector<Block> blocks;  // oldest first
  size_t bytes = 0;
};

Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: blocks may be given back during static destruction
  return *c;
}

}  // namespace

void* workspace_take(size_t bytes, size_t& capacity) {
  if (bytes >= kMinCached) {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.m);
    size_t best = c.blocks.size();
    for (size_t i = 0; i < c.blocks.size(); ++i) {
      const size_t cap = c.blocks[i].cap;
      if (cap >= bytes && cap / 4 <= bytes && (best == c.blocks.size() || cap < c.blocks[best].cap)) best = i;
    }
    if (best < c.blocks.size()) {
      const Block b = c.blocks[best];
      c.blocks.erase(c.blocks.begin() + std::ptrdiff_t(best));
      c.bytes -= b.cap;
      capacity = b.cap;
      return b.p;
    }
  }
  void* p = std::aligned_alloc(64, bytes);
  if (!p) throw std::bad_alloc();
  capacity = bytes;
  return p;
}

void workspace_give(void* p, size_t capacity) noexcept {
  if (capacity < kMinCached || capacity > kMaxBytes) {
    std::free(p);
    return;
  }
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.m);
  try {
    c.blocks.push_back(Block{p, capacity});
  } catch (...) {
    std::free(p);
    return;
  }
  c.bytes += capacity;
  size_t drop = 0;  // the oldest blocks beyond the limits
  while (drop < c.blocks.size() && (c.blocks.size() - drop > kMaxBlocks || c.bytes > kMaxBytes)) {
    c.bytes -= c.blocks[drop].cap;
    std::free(c.blocks[drop].p);
    ++drop;
  }
  c.blocks.erase(c.blocks.begin(), c.blocks.begin() + std::ptrdiff_t(drop));
}

size_t release_workspace() noexcept {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.m);
  const size_t freed = c.bytes;
  for (const Block& b : c.blocks) std::free(b.p);
  c.blocks.clear();
  c.bytes = 0;
  return freed;
}

}  // namespace convbp
