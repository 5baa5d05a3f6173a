// AlignedBuffer: an uninitialized, 64-byte aligned array for packed panels and
// per-thread tiles. Aligned to the cache line so two threads' buffers never
// share a line (no false sharing) and vector loads never split lines.
// Allocation failure throws std::bad_alloc (MemoryError in Python) before any
// parallel region opens.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <vector>

namespace convbp {

template <typename T>
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(int64_t n) { reset(n); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  AlignedBuffer(AlignedBuffer&& o) noexcept : p_(o.p_), n_(o.n_) { o.p_ = nullptr; o.n_ = 0; }
  AlignedBuffer& operator=(AlignedBuffer&& o) noexcept {
    if (this != &o) { std::free(p_); p_ = o.p_; n_ = o.n_; o.p_ = nullptr; o.n_ = 0; }
    return *this;
  }
  ~AlignedBuffer() { std::free(p_); }

  // Drops the old contents; n elements, rounded up to whole cache lines.
  void reset(int64_t n) {
    std::free(p_);
    p_ = nullptr;
    n_ = 0;
    if (n <= 0) return;
    const size_t bytes = (size_t(n) * sizeof(T) + 63) / 64 * 64;
    p_ = static_cast<T*>(std::aligned_alloc(64, bytes));
    if (!p_) throw std::bad_alloc();
    n_ = n;
  }
  T* data() const { return p_; }
  int64_t size() const { return n_; }

 private:
  T* p_ = nullptr;
  int64_t n_ = 0;
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
