// parallel_for: the one way convbp opens an OpenMP region. Iterations are split
// statically (so a fixed thread count gives a fixed partition and bit-identical
// results), and no C++ exception escapes the region: the first one thrown is
// captured and rethrown on the calling thread after the region closes.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <exception>

#include "convbp/runtime.hpp"

namespace convbp {

// The OpenMP team for a region of `nt` threads: nt, or fewer when the
// environment variable CONVBP_TEAM_CAP (read once) is a positive integer. A
// measuring aid only: the drivers still cut their work for nt threads (static
// schedules, per-thread scratch), and the capped team runs all of it, so the
// time of one call is the total work of an nt-thread partition. That is how
// benchmarks/partition_work.py checks, on a small machine, the extra work a
// 16-thread partition does.
inline int team_threads(int nt) {
  static const int cap = [] {
    const char* v = std::getenv("CONVBP_TEAM_CAP");
    return v ? std::atoi(v) : 0;
  }();
  return cap > 0 ? std::min(nt, cap) : nt;
}

template <class F>
void parallel_for(int64_t n, F&& body) {
  if (n <= 0) return;
  const int nt = num_threads();
  if (nt == 1 || n == 1) {
    for (int64_t i = 0; i < n; ++i) body(i);
    return;
  }
  std::exception_ptr error = nullptr;
#pragma omp parallel for schedule(static) num_threads(team_threads(nt))
  for (int64_t i = 0; i < n; ++i) {
    try {
      body(i);
    } catch (...) {
#pragma omp critical(convbp_parallel_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

// parallel_team: one OpenMP team of up to `nt` threads, each running
// body(tid, team_size) once (team_size may be below nt if OpenMP gives fewer).
// For loops that need barriers (#pragma omp barrier inside body, a no-op with
// one thread). A body that reaches a barrier must not throw: a thread leaving
// early would leave the others waiting, so such bodies allocate everything
// before the region. Exceptions are still captured and rethrown, never escape.
template <class F>
void parallel_team(int nt, F&& body) {
  if (nt <= 1) {
    body(0, 1);
    return;
  }
  std::exception_ptr error = nullptr;
#pragma omp parallel num_threads(team_threads(nt))
  {
    try {
      body(omp_get_thread_num(), omp_get_num_threads());
    } catch (...) {
#pragma omp critical(convbp_parallel_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

// Integer helpers for index ranges, exact for negative numerators.
inline int64_t floor_div(int64_t a, int64_t b) {  // b > 0
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}
inline int64_t ceil_div(int64_t a, int64_t b) {  // b > 0
  return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

// The output indices o in [0, n_out) whose input index o*stride + offset lies in
// [0, limit): returns [lo, hi) (empty when lo >= hi). This is how every kernel
// skips the zero padding instead of reading or multiplying zeros.
inline void valid_range(int64_t offset, int64_t stride, int64_t limit, int64_t n_out, int64_t& lo,
                        int64_t& hi) {
  lo = ceil_div(-offset, stride);
  if (lo < 0) lo = 0;
  hi = floor_div(limit - 1 - offset, stride) + 1;
  if (hi > n_out) hi = n_out;
  if (hi < lo) hi = lo;
}

}  // namespace convbp
