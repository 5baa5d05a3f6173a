// AlignedBuffer: an uninitialized, 64-byte aligned array for packed panels and
// per-thread tiles. Aligned to the cache line so two threads' buffers never
// share a line (no false sharing) and vector loads never split lines.
// Allocation failure throws std::bad_alloc (MemoryError in Python) before any
// parallel region opens.
//
// Blocks of 64 KiB and more come from, and go back to, a process-wide cache
// (workspace.cpp) instead of malloc / free: on this project's VM, touching
// freshly mapped memory costs about 0.7 ms per MB (page faults), so a call
// that packs 9.4 MB of weights into a new block spent 6.6 ms of a 20 ms pass
// faulting (resnet.l4.3x3, 1 thread), while a reused block costs nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <vector>

namespace convbp {

// A 64-byte aligned block of at least `bytes` (a multiple of 64); `capacity`
// gets its real size. Throws std::bad_alloc.
void* workspace_take(size_t bytes, size_t& capacity);
// Gives a block from workspace_take back (to the cache, or to free).
void workspace_give(void* p, size_t capacity) noexcept;

template <typename T>
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(int64_t n) { reset(n); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  AlignedBuffer(AlignedBuffer&& o) noexcept : p_(o.p_), n_(o.n_), cap_(o.cap_) {
    o.p_ = nullptr;
    o.n_ = 0;
    o.cap_ = 0;
  }
  AlignedBuffer& operator=(AlignedBuffer&& o) noexcept {
    if (this != &o) {
      release();
      p_ = o.p_, n_ = o.n_, cap_ = o.cap_;
      o.p_ = nullptr, o.n_ = 0, o.cap_ = 0;
    }
    return *this;
  }
  ~AlignedBuffer() { release(); }

  // Drops the old contents; n elements, rounded up to whole cache lines.
  void reset(int64_t n) {
    release();
    if (n <= 0) return;
    const size_t bytes = (size_t(n) * sizeof(T) + 63) / 64 * 64;
    p_ = static_cast<T*>(workspace_take(bytes, cap_));
    n_ = n;
  }
  T* data() const { return p_; }
  int64_t size() const { return n_; }

 private:
  void release() {
    if (p_) workspace_give(p_, cap_);
    p_ = nullptr;
    n_ = 0;
    cap_ = 0;
  }
  T* p_ = nullptr;
  int64_t n_ = 0;
  size_t cap_ = 0;  // bytes of the block (a cached block may be larger than asked)
};

// A per-thread scratch array of at least n elements, kept between calls (a task
// carves all it needs from one call; the next call on the thread may move it).
template <typename T>
T* thread_scratch(int64_t n) {
  thread_local std::vector<T> buf;
  if (int64_t(buf.size()) < n) buf.resize(size_t(n));
  return buf.data();
}

}  // namespace convbp
