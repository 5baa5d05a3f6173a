// f32 GEMM micro-kernel, AVX-512: an 8 x 48 tile of C held in 24 zmm
// accumulators (8 rows x 3 vectors of 16), the BLIS register block. Per k step
// it loads one 48-wide row of the packed B panel (3 zmm) and broadcasts the 8
// values of the packed A column straight from memory into the FMAs ({1to16}
// operands), so 27 of the 32 zmm registers are live and nothing spills.
// Contract: cpp/kernels/kernels.hpp (gemm micro-kernel).
#include <immintrin.h>

#include <cstdint>

namespace convbp::avx512 {

extern const int f32_gemm_mr = 8;
extern const int f32_gemm_nr = 48;

namespace {
constexpr int MR = 8, NR = 48, NV = NR / 16;

// Lanes j < n of a 16-wide vector starting at column 16*v (n may exceed 16*(v+1)).
inline __mmask16 lanes(int64_t n, int v) {
  const int64_t left = n - 16 * v;
  return left >= 16 ? __mmask16(0xFFFF) : left <= 0 ? __mmask16(0) : __mmask16((1u << left) - 1);
}
}  // namespace

void f32_gemm_ukernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int64_t m, int64_t n,
                      bool accumulate) {
  __m512 acc[MR][NV];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();
  // The C tile is read and written only after the k loop. Its lines are
  // prefetched shortly before the end: early enough to hide a miss to memory,
  // late enough that the B panel streaming through L1 has not evicted them.
  constexpr int64_t kPrefetchSteps = 48;
  auto step = [&](const float* ap, const float* bp) {
    const __m512 b0 = _mm512_loadu_ps(bp), b1 = _mm512_loadu_ps(bp + 16), b2 = _mm512_loadu_ps(bp + 32);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m512 ai = _mm512_set1_ps(ap[i]);
      acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
      acc[i][2] = _mm512_fmadd_ps(ai, b2, acc[i][2]);
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

  // Masked loads and stores touch only the n valid columns (masked-off lanes
  // never fault); rows >= m are never touched. With accumulate false C is not
  // read at all, so it may hold garbage, NaN included.
  const __mmask16 k0 = lanes(n, 0), k1 = lanes(n, 1), k2 = lanes(n, 2);
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
    if (i >= m) break;
    float* row = c + i * ldc;
    if (accumulate) {
      acc[i][0] = _mm512_add_ps(acc[i][0], _mm512_maskz_loadu_ps(k0, row));
      acc[i][1] = _mm512_add_ps(acc[i][1], _mm512_maskz_loadu_ps(k1, row + 16));
      acc[i][2] = _mm512_add_ps(acc[i][2], _mm512_maskz_loadu_ps(k2, row + 32));
    }
    _mm512_mask_storeu_ps(row, k0, acc[i][0]);
    _mm512_mask_storeu_ps(row + 16, k1, acc[i][1]);
    _mm512_mask_storeu_ps(row + 32, k2, acc[i][2]);
  }
}

}  // namespace convbp::avx512
