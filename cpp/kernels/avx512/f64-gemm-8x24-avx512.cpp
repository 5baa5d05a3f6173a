// f64 GEMM micro-kernel, AVX-512: an 8 x 24 tile of C in 24 zmm accumulators
// (8 rows x 3 vectors of 8 doubles); the f32 8x48 kernel's shape at half the
// lanes. Contract: cpp/kernels/kernels.hpp (gemm micro-kernel).
#include <immintrin.h>

#include <cstdint>

namespace convbp::avx512 {

extern const int f64_gemm_mr = 8;
extern const int f64_gemm_nr = 24;

namespace {
constexpr int MR = 8, NR = 24, NV = NR / 8;

inline __mmask8 lanes(int64_t n, int v) {
  const int64_t left = n - 8 * v;
  return left >= 8 ? __mmask8(0xFF) : left <= 0 ? __mmask8(0) : __mmask8((1u << left) - 1);
}
}  // namespace

void f64_gemm_ukernel(int64_t kc, const double* a, const double* b, double* c, int64_t ldc, int64_t m, int64_t n,
                      bool accumulate) {
  __m512d acc[MR][NV];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_pd();

  // The C tile's lines are prefetched shortly before the end of the k loop
  // (see the f32 kernel): late enough to survive the B stream through L1.
  constexpr int64_t kPrefetchSteps = 48;
  auto step = [&](const double* ap, const double* bp) {
    const __m512d b0 = _mm512_loadu_pd(bp), b1 = _mm512_loadu_pd(bp + 8), b2 = _mm512_loadu_pd(bp + 16);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m512d ai = _mm512_set1_pd(ap[i]);
      acc[i][0] = _mm512_fmadd_pd(ai, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_pd(ai, b1, acc[i][1]);
      acc[i][2] = _mm512_fmadd_pd(ai, b2, acc[i][2]);
    }
  };
  const int64_t k_main = kc > kPrefetchSteps ? kc - kPrefetchSteps : 0;
  for (int64_t p = 0; p < k_main; ++p, a += MR, b += NR) step(a, b);
  for (int i = 0; i < MR && i < m; ++i) {
    const char* row = reinterpret_cast<const char*>(c + i * ldc);
    _mm_prefetch(row, _MM_HINT_T0);
    _mm_prefetch(row + 64, _MM_HINT_T0);
    _mm_prefetch(row + 128, _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + n - 1), _MM_HINT_T0);
  }
  for (int64_t p = k_main; p < kc; ++p, a += MR, b += NR) step(a, b);

  // Only rows < m and columns < n are touched; C is read only when accumulating.
  const __mmask8 k0 = lanes(n, 0), k1 = lanes(n, 1), k2 = lanes(n, 2);
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
    if (i >= m) break;
    double* row = c + i * ldc;
    if (accumulate) {
      acc[i][0] = _mm512_add_pd(acc[i][0], _mm512_maskz_loadu_pd(k0, row));
      acc[i][1] = _mm512_add_pd(acc[i][1], _mm512_maskz_loadu_pd(k1, row + 8));
      acc[i][2] = _mm512_add_pd(acc[i][2], _mm512_maskz_loadu_pd(k2, row + 16));
    }
    _mm512_mask_storeu_pd(row, k0, acc[i][0]);
    _mm512_mask_storeu_pd(row + 8, k1, acc[i][1]);
    _mm512_mask_storeu_pd(row + 16, k2, acc[i][2]);
  }
}

}  // namespace convbp::avx512
