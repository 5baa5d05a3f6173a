#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "convbp/runtime.hpp"
#include "dispatch/kernel-table.hpp"
#include "drivers/parallel.hpp"

namespace convbp {

namespace {
std::atomic<int>& thread_setting() {
  // OpenMP's default (OMP_NUM_THREADS or the cores), within set_num_threads' bounds.
  static std::atomic<int> n{std::clamp(omp_get_max_threads(), 1, kMaxThreads)};
  return n;
}
thread_local int pinned_threads = 0;  // 0: not pinned (see ThreadCountPin)
}  // namespace

int num_threads() { return pinned_threads > 0 ? pinned_threads : thread_setting().load(std::memory_order_relaxed); }

ThreadCountPin::ThreadCountPin() : previous_(pinned_threads) {
  if (previous_ == 0) pinned_threads = thread_setting().load(std::memory_order_relaxed);
}
ThreadCountPin::~ThreadCountPin() { pinned_threads = previous_; }

void set_num_threads(int n) {
  // The upper bound keeps a typo (say 10**6) from asking OpenMP for a million
  // threads, which aborts the process instead of raising.
  if (n < 1 || n > kMaxThreads)
    throw std::invalid_argument("set_num_threads: n=" + std::to_string(n) + " must be in [1, " +
                                std::to_string(kMaxThreads) + "]");
  thread_setting().store(n, std::memory_order_relaxed);
}

std::string compiler_info() {
#ifdef CONVBP_COMPILER
  return CONVBP_COMPILER;
#else
  return "unknown";
#endif
}

std::string openmp_info() {
  std::ostringstream os;
  os << "OpenMP " << _OPENMP;
  return os.str();
}

double peak_gflops(int threads, double seconds) {
  if (threads < 1 || threads > kMaxThreads)
    throw std::invalid_argument("peak_gflops: threads=" + std::to_string(threads) + " must be in [1, " +
                                std::to_string(kMaxThreads) + "]");
  // NaN, infinity or an hour would calibrate forever (or overflow the count).
  if (!(seconds > 0.0 && seconds <= 60.0))
    throw std::invalid_argument("peak_gflops: seconds=" + std::to_string(seconds) + " must be in (0, 60]");
  const KernelTable& kt = kernel_table();
  // Calibrate the iteration count on one thread, then time all threads together.
  int64_t iters = 1 << 16;
  for (;;) {
    auto t0 = std::chrono::steady_clock::now();
    volatile float sink = kt.f32_fma_peak(iters, 1.0f);
    (void)sink;
    double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (dt > seconds / 4 || iters > (int64_t(1) << 40)) {
      iters = static_cast<int64_t>(double(iters) * seconds / (dt > 0 ? dt : 1e-9)) + 1;
      break;
    }
    iters *= 4;
  }
  double best = 0.0;
  for (int rep = 0; rep < 3; ++rep) {
    std::vector<float> sinks(threads);
    auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads)
    { sinks[omp_get_thread_num()] = kt.f32_fma_peak(iters, 1.0f + 1e-7f * omp_get_thread_num()); }
    double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    volatile float sink = sinks[0];
    (void)sink;
    const double g = double(iters) * double(kt.f32_fma_peak_flops_per_iter) * threads / dt / 1e9;
    if (g > best) best = g;
  }
  return best;
}

}  // namespace convbp
