// copy_runs with AVX2 (contract: cpp/kernels/kernels.hpp): contiguous runs in
// full 256-bit vectors, the tail element by element (AVX2 masked stores are
// slow on some CPUs); strided runs element by element.
#include <immintrin.h>

#include "kernels/kernels.hpp"

namespace convbp::avx2 {

void f32_copy_runs(const CopyRun* runs, int64_t n, const float* src, float* dst) {
  for (int64_t r = 0; r < n; ++r) {
    const CopyRun run = runs[r];
    float* d = dst + run.dst;
    int64_t i = 0;
    if (run.step == 1) {
      const float* s = src + run.src;
      for (; i + 8 <= run.len; i += 8) _mm256_storeu_ps(d + i, _mm256_loadu_ps(s + i));
      for (; i < run.len; ++i) d[i] = s[i];
    } else if (run.step <= 0) {
      for (; i + 8 <= run.len; i += 8) _mm256_storeu_ps(d + i, _mm256_setzero_ps());
      for (; i < run.len; ++i) d[i] = 0.0f;
    } else {
      const float* s = src + run.src;
      for (; i < run.len; ++i) d[i] = s[i * run.step];
    }
  }
}

void f64_copy_runs(const CopyRun* runs, int64_t n, const double* src, double* dst) {
  for (int64_t r = 0; r < n; ++r) {
    const CopyRun run = runs[r];
    double* d = dst + run.dst;
    int64_t i = 0;
    if (run.step == 1) {
      const double* s = src + run.src;
      for (; i + 4 <= run.len; i += 4) _mm256_storeu_pd(d + i, _mm256_loadu_pd(s + i));
      for (; i < run.len; ++i) d[i] = s[i];
    } else if (run.step <= 0) {
      for (; i + 4 <= run.len; i += 4) _mm256_storeu_pd(d + i, _mm256_setzero_pd());
      for (; i < run.len; ++i) d[i] = 0.0;
    } else {
      const double* s = src + run.src;
      for (; i < run.len; ++i) d[i] = s[i * run.step];
    }
  }
}

}  // namespace convbp::avx2
