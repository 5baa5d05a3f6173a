// add_runs with AVX2 (contract: cpp/kernels/kernels.hpp): unit-stride runs in
// full 256-bit vectors and a scalar tail; strided destinations element-wise.
#include <immintrin.h>

#include "kernels/kernels.hpp"

namespace convbp::avx2 {

void f32_add_runs(const CopyRun* runs, int64_t n, const float* src, float* dst) {
  for (int64_t r = 0; r < n; ++r) {
    const CopyRun run = runs[r];
    float* d = dst + run.dst;
    const float* s = src + run.src;
    int64_t i = 0;
    if (run.step == 1)
      for (; i + 8 <= run.len; i += 8) _mm256_storeu_ps(d + i, _mm256_add_ps(_mm256_loadu_ps(d + i), _mm256_loadu_ps(s + i)));
    for (; i < run.len; ++i) d[i * run.step] += s[i];
  }
}

void f64_add_runs(const CopyRun* runs, int64_t n, const double* src, double* dst) {
  for (int64_t r = 0; r < n; ++r) {
    const CopyRun run = runs[r];
    double* d = dst + run.dst;
    const double* s = src + run.src;
    int64_t i = 0;
    if (run.step == 1)
      for (; i + 4 <= run.len; i += 4) _mm256_storeu_pd(d + i, _mm256_add_pd(_mm256_loadu_pd(d + i), _mm256_loadu_pd(s + i)));
    for (; i < run.len; ++i) d[i * run.step] += s[i];
  }
}

}  // namespace convbp::avx2
