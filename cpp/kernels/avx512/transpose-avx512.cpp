// transpose with AVX-512 (contract: cpp/kernels/kernels.hpp): blocks of L x L
// (16 floats or 8 doubles) are transposed in registers: unpack and shuffle
// within 128-bit lanes, then a 4 x 4 transpose of the lanes across registers
// (shuffle_f32x4 / shuffle_f64x2). Edge blocks load with column masks (missing
// rows read as zeros) and store with row masks.
#include "kernels/avx512/simd-avx512.hpp"
#include "kernels/kernels.hpp"

// GCC 12 warns that the unpack intrinsics' internal _mm512_undefined_ps() "may
// be used uninitialized" (a false positive inside immintrin.h).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace convbp::avx512 {

namespace {

// The 4 x 4 transpose of 128-bit lanes: o[L] (L = 0..3) gets lane L of a, b, c, d.
template <typename V, typename Shuf>
inline void lanes4x4(V a, V b, V c, V d, V* o0, V* o1, V* o2, V* o3, Shuf shuf) {
  const V ab_lo = shuf.template apply<0x44>(a, b), ab_hi = shuf.template apply<0xEE>(a, b);
  const V cd_lo = shuf.template apply<0x44>(c, d), cd_hi = shuf.template apply<0xEE>(c, d);
  *o0 = shuf.template apply<0x88>(ab_lo, cd_lo);
  *o1 = shuf.template apply<0xDD>(ab_lo, cd_lo);
  *o2 = shuf.template apply<0x88>(ab_hi, cd_hi);
  *o3 = shuf.template apply<0xDD>(ab_hi, cd_hi);
}

struct ShufPs {
  template <int I>
  static __m512 apply(__m512 a, __m512 b) { return _mm512_shuffle_f32x4(a, b, I); }
};
struct ShufPd {
  template <int I>
  static __m512d apply(__m512d a, __m512d b) { return _mm512_shuffle_f64x2(a, b, I); }
};

// r[0..15] (row i, columns p..p+15) -> c[0..15] (column p+j, rows 0..15).
inline void transpose16(const __m512* r, __m512* c) {
  __m512 s[16];
  for (int g = 0; g < 4; ++g) {
    const __m512 t0 = _mm512_unpacklo_ps(r[4 * g], r[4 * g + 1]), t1 = _mm512_unpackhi_ps(r[4 * g], r[4 * g + 1]);
    const __m512 t2 = _mm512_unpacklo_ps(r[4 * g + 2], r[4 * g + 3]),
                 t3 = _mm512_unpackhi_ps(r[4 * g + 2], r[4 * g + 3]);
    s[4 * g + 0] = _mm512_shuffle_ps(t0, t2, 0x44);  // column 4L+0 of rows 4g..4g+3, per lane L
    s[4 * g + 1] = _mm512_shuffle_ps(t0, t2, 0xEE);
    s[4 * g + 2] = _mm512_shuffle_ps(t1, t3, 0x44);
    s[4 * g + 3] = _mm512_shuffle_ps(t1, t3, 0xEE);
  }
  for (int k = 0; k < 4; ++k) lanes4x4(s[k], s[4 + k], s[8 + k], s[12 + k], &c[k], &c[4 + k], &c[8 + k], &c[12 + k], ShufPs());
}

// r[0..7] (row i, columns p..p+7) -> c[0..7] (column p+j, rows 0..7).
inline void transpose8(const __m512d* r, __m512d* c) {
  __m512d u[8];
  for (int g = 0; g < 4; ++g) {
    u[2 * g + 0] = _mm512_unpacklo_pd(r[2 * g], r[2 * g + 1]);  // column 2L+0 of rows 2g, 2g+1, per lane L
    u[2 * g + 1] = _mm512_unpackhi_pd(r[2 * g], r[2 * g + 1]);
  }
  for (int e = 0; e < 2; ++e) lanes4x4(u[e], u[2 + e], u[4 + e], u[6 + e], &c[e], &c[2 + e], &c[4 + e], &c[6 + e], ShufPd());
}

inline void transpose_block(const __m512* r, __m512* c) { transpose16(r, c); }
inline void transpose_block(const __m512d* r, __m512d* c) { transpose8(r, c); }

template <typename T>
void transpose(const T* src, int64_t lds, int64_t rows, int64_t cols, T* dst, int64_t ldd) {
  using S = Simd<T>;
  constexpr int L = S::L;
  typename S::V r[L], c[L];
  for (int64_t i0 = 0; i0 < rows; i0 += L) {
    const int64_t ni = rows - i0 < L ? rows - i0 : L;
    const auto im = S::first(ni);
    for (int64_t j0 = 0; j0 < cols; j0 += L) {
      const int64_t nj = cols - j0 < L ? cols - j0 : L;
      const auto jm = S::first(nj);
      // The next blocks' rows are fetched ahead: the loads are masked, and a
      // masked load that misses the caches is 2-3x slower than a plain one on
      // Zen 5. This transpose first touches the input planes of the channel-vector
      // depthwise route; it took 71% of mobilenet.dw2s2's forward time, and with
      // the prefetch dw2s2 went from 2.22 / 2.65 / 2.13 ms to 1.71 / 2.31 / 1.36
      // (fwd / bwd_data / bwd_weight, 1 thread, old / new .so in alternating
      // processes), dw4s2 fwd 0.70 -> 0.62, bwd_weight 0.62 -> 0.51, other layers
      // within noise. (Plain loads instead of masked ones helped dw2s2 less and
      // made dw4s2 and dw6s2 8-11% slower.)
      for (int i = 0; i < ni; ++i) _mm_prefetch(reinterpret_cast<const char*>(src + (i0 + i) * lds + j0 + 4 * L), _MM_HINT_T0);
      for (int i = 0; i < L; ++i) r[i] = i < ni ? S::load(jm, src + (i0 + i) * lds + j0) : S::zero();
      transpose_block(r, c);
      for (int j = 0; j < nj; ++j) S::store(dst + (j0 + j) * ldd + i0, im, c[j]);
    }
  }
}

}  // namespace

void f32_transpose(const float* src, int64_t lds, int64_t rows, int64_t cols, float* dst, int64_t ldd) {
  transpose(src, lds, rows, cols, dst, ldd);
}
void f64_transpose(const double* src, int64_t lds, int64_t rows, int64_t cols, double* dst, int64_t ldd) {
  transpose(src, lds, rows, cols, dst, ldd);
}

}  // namespace convbp::avx512
