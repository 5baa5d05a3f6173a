// f32 GEMM micro-kernel, AVX2+FMA: a 6 x 16 tile of C in 12 ymm accumulators
// (6 rows x 2 vectors of 8); with the 2 B vectors and 1 broadcast that is 15 of
// the 16 ymm registers. Contract: cpp/kernels/kernels.hpp (gemm micro-kernel).
#include <immintrin.h>

#include <cstdint>

namespace convbp::avx2 {

extern const int f32_gemm_mr = 6;
extern const int f32_gemm_nr = 16;

namespace {
constexpr int MR = 6, NR = 16, NV = NR / 8;

// All-ones in the lanes j < n of the 8-wide vector starting at column 8*v.
inline __m256i lanes(int64_t n, int v) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const int64_t left = n - 8 * v;
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(left < 0 ? 0 : left > 8 ? 8 : left)), idx);
}
}  // namespace

void f32_gemm_ukernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int64_t m, int64_t n,
                      bool accumulate) {
  __m256 acc[MR][NV];
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_setzero_ps();

  for (int64_t p = 0; p < kc; ++p) {
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) {
      const __m256 ai = _mm256_broadcast_ss(a + i);
      acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
    }
    a += MR;
    b += NR;
  }

  // Only rows < m and columns < n are touched (masked moves never fault on the
  // masked-off lanes); C is read only when accumulating.
  if (n >= NR) {
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) {
      if (i >= m) break;
      float* row = c + i * ldc;
      if (accumulate) {
        acc[i][0] = _mm256_add_ps(acc[i][0], _mm256_loadu_ps(row));
        acc[i][1] = _mm256_add_ps(acc[i][1], _mm256_loadu_ps(row + 8));
      }
      _mm256_storeu_ps(row, acc[i][0]);
      _mm256_storeu_ps(row + 8, acc[i][1]);
    }
    return;
  }
  const __m256i k0 = lanes(n, 0), k1 = lanes(n, 1);
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) {
    if (i >= m) break;
    float* row = c + i * ldc;
    if (accumulate) {
      acc[i][0] = _mm256_add_ps(acc[i][0], _mm256_maskload_ps(row, k0));
      acc[i][1] = _mm256_add_ps(acc[i][1], _mm256_maskload_ps(row + 8, k1));
    }
    _mm256_maskstore_ps(row, k0, acc[i][0]);
    _mm256_maskstore_ps(row + 8, k1, acc[i][1]);
  }
}

}  // namespace convbp::avx2
