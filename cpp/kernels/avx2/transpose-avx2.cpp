// transpose with AVX2 (contract: cpp/kernels/kernels.hpp): full 8 x 8 float
// (4 x 4 double) blocks are transposed in registers (unpack, shuffle,
// permute2f128); partial blocks at the edges element-wise.
#include <immintrin.h>

#include "kernels/kernels.hpp"

namespace convbp::avx2 {

namespace {

inline void block(const float* s, int64_t ld, float* d, int64_t ldd) {
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
    _mm256_storeu_ps(d + k * ldd, _mm256_permute2f128_ps(u[k], u[4 + k], 0x20));
    _mm256_storeu_ps(d + (k + 4) * ldd, _mm256_permute2f128_ps(u[k], u[4 + k], 0x31));
  }
}

inline void block(const double* s, int64_t ld, double* d, int64_t ldd) {
  __m256d r[4];
  for (int i = 0; i < 4; ++i) r[i] = _mm256_loadu_pd(s + i * ld);
  const __m256d t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
  const __m256d t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
  _mm256_storeu_pd(d, _mm256_permute2f128_pd(t0, t2, 0x20));
  _mm256_storeu_pd(d + ldd, _mm256_permute2f128_pd(t1, t3, 0x20));
  _mm256_storeu_pd(d + 2 * ldd, _mm256_permute2f128_pd(t0, t2, 0x31));
  _mm256_storeu_pd(d + 3 * ldd, _mm256_permute2f128_pd(t1, t3, 0x31));
}

template <typename T, int L>
void transpose(const T* src, int64_t lds, int64_t rows, int64_t cols, T* dst, int64_t ldd) {
  for (int64_t i0 = 0; i0 < rows; i0 += L)
    for (int64_t j0 = 0; j0 < cols; j0 += L) {
      if (i0 + L <= rows && j0 + L <= cols) {
        block(src + i0 * lds + j0, lds, dst + j0 * ldd + i0, ldd);
        continue;
      }
      const int64_t i1 = i0 + L < rows ? i0 + L : rows, j1 = j0 + L < cols ? j0 + L : cols;
      for (int64_t i = i0; i < i1; ++i)
        for (int64_t j = j0; j < j1; ++j) dst[j * ldd + i] = src[i * lds + j];
    }
}

}  // namespace

void f32_transpose(const float* src, int64_t lds, int64_t rows, int64_t cols, float* dst, int64_t ldd) {
  transpose<float, 8>(src, lds, rows, cols, dst, ldd);
}
void f64_transpose(const double* src, int64_t lds, int64_t rows, int64_t cols, double* dst, int64_t ldd) {
  transpose<double, 4>(src, lds, rows, cols, dst, ldd);
}

}  // namespace convbp::avx2
