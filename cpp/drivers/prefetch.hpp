// NextPrefetch: software prefetch of the input the next task reads, spread over
// the current task.
//
// Why: on large planes a layer's input does not stay in cache between calls, and a
// direct task of the channels-mode rows kernel reads several planes and rows at
// once (a 4-channel by 4-row tile of a ResNeXt group touches 6 rows of each of 4
// input planes), more streams than the hardware prefetcher follows, so its loads
// wait on memory: resnext50.l1.g32 (batch 8, 56x56) took 1.4-1.7x as long per
// image as at batch 2, whose data stays in cache (2-core Zen 5 host, 1 thread).
// The tasks of a thread are consecutive (parallel_for's static schedule), so the
// next task's input is known: each step of the current task prefetches the next
// share of it into L2, in proportion to the work done. Measured there, old / new
// .so in alternating processes (or the prefetch switched off and on), time new /
// old: l1.g32 at 1 thread fwd 0.79-0.84, bwd_data 0.59-0.70; at 2 threads 0.78 /
// 0.75; at batch 2 (in cache) 1.00-1.02.
// The whole span at the start of the task was no faster than none (the prefetches
// stall once the miss buffers fill). Depthwise tasks (one plane streamed at a
// time, which the hardware follows) gained nothing from it.
#pragma once

#include <algorithm>
#include <cstdint>

namespace convbp::direct {

class NextPrefetch {
 public:
  // The bytes [p, p + bytes), prefetched over `units` units of the current task's
  // work; p == nullptr or bytes <= 0: nothing.
  NextPrefetch(const void* p, int64_t bytes, int64_t units)
      : p_(static_cast<const char*>(p)), bytes_(p ? std::max<int64_t>(bytes, 0) : 0), units_(std::max<int64_t>(units, 1)) {}

  // Whether there is anything to prefetch (drivers cut their calls finer only then).
  bool active() const { return bytes_ > 0; }

  // `done` units of the task are done (or about to start): prefetches the share of
  // the span they stand for, past what earlier calls prefetched.
  void upto(int64_t done) {
    const int64_t to = std::min(bytes_, (std::min(done, units_) * bytes_ + units_ - 1) / units_);
    for (; next_ < to; next_ += kLine) __builtin_prefetch(p_ + next_, 0, 2);
  }

 private:
  static constexpr int64_t kLine = 64;
  const char* p_;
  int64_t bytes_, units_, next_ = 0;
};

}  // namespace convbp::direct
