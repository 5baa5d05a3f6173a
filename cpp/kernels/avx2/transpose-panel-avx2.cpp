// transpose_panel with AVX2 (contract: cpp/kernels/kernels.hpp): full 8 x 8
// float (4 x 4 double) blocks are transposed in registers (unpack, shuffle,
// permute2f128); partial blocks at the edges of rows, width or kc element-wise.
#include <immintrin.h>

#include "kernels/kernels.hpp"

namespace convbp::avx2 {

namespace {

inline void block(const float* s, int64_t ld, float* d, int64_t width) {
  __m256 r[8], t[8], u[8];
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(s + i * ld);
  for (int g = 0; g < 4; ++g) {
    t[2 * g] = _mm256_unpacklo_ps(r[2 * g], r[2 * g + 1]);
    t[2 * g + 1] = _mm256_unpackhi_ps(r[2 * g], r[2 * g + 1]);
  }
  for (int h = 0; h < 2; ++h) {  // rows 4h..4h+3: column k (per 128-bit lane) in u[4h+k]
    u[4 * h + 0] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0x44);
    u[4 * h + 1] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0xEE);
    u[4 * h + 2] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0x44);
    u[4 * h + 3] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0xEE);
  }
  for (int k = 0; k < 4; ++k) {
    _mm256_storeu_ps(d + k * width, _mm256_permute2f128_ps(u[k], u[4 + k], 0x20));
    _mm256_storeu_ps(d + (k + 4) * width, _mm256_permute2f128_ps(u[k], u[4 + k], 0x31));
  }
}

inline void block(const double* s, int64_t ld, double* d, int64_t width) {
  __m256d r[4];
  for (int i = 0; i < 4; ++i) r[i] = _mm256_loadu_pd(s + i * ld);
  const __m256d t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
  const __m256d t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
  _mm256_storeu_pd(d, _mm256_permute2f128_pd(t0, t2, 0x20));
  _mm256_storeu_pd(d + width, _mm256_permute2f128_pd(t1, t3, 0x20));
  _mm256_storeu_pd(d + 2 * width, _mm256_permute2f128_pd(t0, t2, 0x31));
  _mm256_storeu_pd(d + 3 * width, _mm256_permute2f128_pd(t1, t3, 0x31));
}

template <typename T, int L>
void transpose_panel(const T* src, int64_t ld, int64_t rows, int64_t kc, int64_t width, T* dst) {
  for (int64_t i0 = 0; i0 < width; i0 += L) {
    const bool full_rows = i0 + L <= rows && i0 + L <= width;
    for (int64_t p0 = 0; p0 < kc; p0 += L) {
      if (full_rows && p0 + L <= kc) {
        block(src + i0 * ld + p0, ld, dst + p0 * width + i0, width);
        continue;
      }
      const int64_t i1 = i0 + L < width ? i0 + L : width, p1 = p0 + L < kc ? p0 + L : kc;
      for (int64_t p = p0; p < p1; ++p)
        for (int64_t i = i0; i < i1; ++i) dst[p * width + i] = i < rows ? src[i * ld + p] : T(0);
    }
  }
}

}  // namespace

void f32_transpose_panel(const float* src, int64_t ld, int64_t rows, int64_t kc, int64_t width, float* dst) {
  transpose_panel<float, 8>(src, ld, rows, kc, width, dst);
}
void f64_transpose_panel(const double* src, int64_t ld, int64_t rows, int64_t kc, int64_t width, double* dst) {
  transpose_panel<double, 4>(src, ld, rows, kc, width, dst);
}

}  // namespace convbp::avx2
