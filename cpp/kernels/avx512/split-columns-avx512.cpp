// split_columns with AVX-512 (contract: cpp/kernels/kernels.hpp). Step 2 (the
// stride-2 convolutions) moves 32 input columns at a time: two masked loads, one
// two-source permute per phase (even lanes, odd lanes), two masked stores; a row
// of at most 16 floats is one load, two one-source permutes and two stores. Why a
// kernel of its own: the same split as copy_runs runs (one strided run per phase
// row) spent ~12 cycles per run of 7 floats, 67% of mobilenet.dw12s2's forward.
// Other steps: the plain loops (kernels/split-columns.inl).
#include "kernels/avx512/simd-avx512.hpp"
#include "kernels/kernels.hpp"

// GCC 12 warns that the permute intrinsics' internal _mm512_undefined_ps() "may
// be used uninitialized" (a false positive inside immintrin.h).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace convbp::avx512 {

#include "kernels/split-columns.inl"

namespace {

template <typename T>
struct Pairs;
template <>
struct Pairs<float> {
  static __m512i even() { return _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30); }
  static __m512i odd() { return _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31); }
  static __m512 pick(__m512 lo, __m512i idx, __m512 hi) { return _mm512_permutex2var_ps(lo, idx, hi); }
  static __m512 pick1(__m512i idx, __m512 v) { return _mm512_permutexvar_ps(idx, v); }
};
template <>
struct Pairs<double> {
  static __m512i even() { return _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14); }
  static __m512i odd() { return _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15); }
  static __m512d pick(__m512d lo, __m512i idx, __m512d hi) { return _mm512_permutex2var_pd(lo, idx, hi); }
  static __m512d pick1(__m512i idx, __m512d v) { return _mm512_permutexvar_pd(idx, v); }
};

template <typename T>
void split_columns(const T* src, int64_t lds, int64_t rows, int64_t cols, int64_t step, T* dst, int64_t ldd,
                   int64_t phase_stride, int64_t width) {
  using S = Simd<T>;
  constexpr int L = S::L;
  if (step == 2 && cols >= 2) {
    const __m512i ie = Pairs<T>::even(), io = Pairs<T>::odd();
    const int64_t ne = (cols + 1) / 2 < width ? (cols + 1) / 2 : width;  // columns of phase 0
    const int64_t no = cols / 2 < width ? cols / 2 : width;              // and of phase 1
    const int64_t need = 2 * ne > 2 * no + 1 ? 2 * ne - 1 : 2 * no;      // input columns read
    if (need <= L) {  // rows of at most L inputs (planes up to 16 floats wide): one load
      const auto m = S::first(need), me = S::first(ne), mo = S::first(no);
      for (int64_t i = 0; i < rows; ++i) {
        const auto in = S::load(m, src + i * lds);
        S::store(dst + i * ldd, me, Pairs<T>::pick1(ie, in));
        S::store(dst + phase_stride + i * ldd, mo, Pairs<T>::pick1(io, in));
      }
      return;
    }
    for (int64_t i = 0; i < rows; ++i) {
      const T* s = src + i * lds;
      T* d0 = dst + i * ldd;
      T* d1 = d0 + phase_stride;
      for (int64_t v = 0; v < ne; v += L) {
        const auto lo = S::load(S::first(need - 2 * v), s + 2 * v);
        const auto hi = S::load(S::first(need - 2 * v - L), s + 2 * v + L);
        S::store(d0 + v, S::first(ne - v), Pairs<T>::pick(lo, ie, hi));
        if (v < no) S::store(d1 + v, S::first(no - v), Pairs<T>::pick(lo, io, hi));
      }
    }
    return;
  }
  split_columns_detail::loops(src, lds, rows, cols, step, dst, ldd, phase_stride, width);
}

}  // namespace

void f32_split_columns(const float* src, int64_t lds, int64_t rows, int64_t cols, int64_t step, float* dst, int64_t ldd,
                       int64_t phase_stride, int64_t width) {
  split_columns(src, lds, rows, cols, step, dst, ldd, phase_stride, width);
}
void f64_split_columns(const double* src, int64_t lds, int64_t rows, int64_t cols, int64_t step, double* dst,
                       int64_t ldd, int64_t phase_stride, int64_t width) {
  split_columns(src, lds, rows, cols, step, dst, ldd, phase_stride, width);
}

}  // namespace convbp::avx512
