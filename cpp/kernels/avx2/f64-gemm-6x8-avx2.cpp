// f64 GEMM micro-kernel, AVX2+FMA: a 6 x 8 tile of C in 12 ymm accumulators
// (6 rows x 2 vectors of 4 doubles). Contract: cpp/kernels/kernels.hpp.
#include <immintrin.h>

#include <cstdint>

namespace convbp::avx2 {

extern const int f64_gemm_mr = 6;
extern const int f64_gemm_nr = 8;

namespace {
constexpr int MR = 6, NR = 8, NV = NR / 4;

// All-ones in the lanes j < n of the 4-wide vector starting at column 4*v.
inline __m256i lanes(int64_t n, int v) {
  const __m256i idx = _mm256_setr_epi64x(0, 1, 2, 3);
  const int64_t left = n - 4 * v;
  return _mm256_cmpgt_epi64(_mm256_set1_epi64x(left < 0 ? 0 : left > 4 ? 4 : left), idx);
}
}  // namespace

void f64_gemm_ukernel(int64_t kc, const double* a, const double* b, double* c, int64_t ldc, int64_t m, int64_t n,
                      bool accumulate) {
  __m256d acc[MR][NV];
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_setzero_pd();

  for (int64_t p = 0; p < kc; ++p) {
    const __m256d b0 = _mm256_loadu_pd(b), b1 = _mm256_loadu_pd(b + 4);
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) {
      const __m256d ai = _mm256_broadcast_sd(a + i);
      acc[i][0] = _mm256_fmadd_pd(ai, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_pd(ai, b1, acc[i][1]);
    }
    a += MR;
    b += NR;
  }

  if (n >= NR) {
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) {
      if (i >= m) break;
      double* row = c + i * ldc;
      if (accumulate) {
        acc[i][0] = _mm256_add_pd(acc[i][0], _mm256_loadu_pd(row));
        acc[i][1] = _mm256_add_pd(acc[i][1], _mm256_loadu_pd(row + 4));
      }
      _mm256_storeu_pd(row, acc[i][0]);
      _mm256_storeu_pd(row + 4, acc[i][1]);
    }
    return;
  }
  const __m256i k0 = lanes(n, 0), k1 = lanes(n, 1);
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) {
    if (i >= m) break;
    double* row = c + i * ldc;
    if (accumulate) {
      acc[i][0] = _mm256_add_pd(acc[i][0], _mm256_maskload_pd(row, k0));
      acc[i][1] = _mm256_add_pd(acc[i][1], _mm256_maskload_pd(row + 4, k1));
    }
    _mm256_maskstore_pd(row, k0, acc[i][0]);
    _mm256_maskstore_pd(row + 4, k1, acc[i][1]);
  }
}

}  // namespace convbp::avx2
