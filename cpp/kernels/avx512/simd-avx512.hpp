// One name for the f32 and f64 AVX-512 vector operations the data-movement
// kernels need, so each is written once as a template (f32: 16 lanes, f64: 8).
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace convbp::avx512 {

template <typename T>
struct Simd;

template <>
struct Simd<float> {
  using V = __m512;
  using M = __mmask16;
  static constexpr int L = 16;
  static M first(int64_t n) { return n >= 16 ? M(0xFFFF) : n <= 0 ? M(0) : M((1u << n) - 1); }
  static V load(M m, const float* p) { return _mm512_maskz_loadu_ps(m, p); }
  static void store(float* p, M m, V v) { _mm512_mask_storeu_ps(p, m, v); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V zero() { return _mm512_setzero_ps(); }
  static V loadu(const float* p) { return _mm512_loadu_ps(p); }
  static V set1(float x) { return _mm512_set1_ps(x); }
  static V fmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  // Lanes i < n of src[0], src[2], ..., src[2*(n-1)]: two (masked) loads and a
  // two-source permute; reads nothing past src[2*(n-1)].
  static V load_even(M m, const float* src, int64_t n) {
    const __m512i idx = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const int64_t need = 2 * (n < 16 ? n : 16) - 1;  // elements src[0 .. need)
    const V lo = _mm512_maskz_loadu_ps(first(need), src), hi = _mm512_maskz_loadu_ps(first(need - 16), src + 16);
    return _mm512_maskz_permutex2var_ps(m, lo, idx, hi);
  }
  // Lanes i < n of src[i*step] (a masked gather).
  static V load_step(M m, const float* src, int64_t step) {
    const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                           _mm512_set1_epi32(int(step)));
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx, src, 4);
  }
};

template <>
struct Simd<double> {
  using V = __m512d;
  using M = __mmask8;
  static constexpr int L = 8;
  static M first(int64_t n) { return n >= 8 ? M(0xFF) : n <= 0 ? M(0) : M((1u << n) - 1); }
  static V load(M m, const double* p) { return _mm512_maskz_loadu_pd(m, p); }
  static void store(double* p, M m, V v) { _mm512_mask_storeu_pd(p, m, v); }
  static V add(V a, V b) { return _mm512_add_pd(a, b); }
  static V zero() { return _mm512_setzero_pd(); }
  static V loadu(const double* p) { return _mm512_loadu_pd(p); }
  static V set1(double x) { return _mm512_set1_pd(x); }
  static V fmadd(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
  static V load_even(M m, const double* src, int64_t n) {
    const __m512i idx = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
    const int64_t need = 2 * (n < 8 ? n : 8) - 1;
    const V lo = _mm512_maskz_loadu_pd(first(need), src), hi = _mm512_maskz_loadu_pd(first(need - 8), src + 8);
    return _mm512_maskz_permutex2var_pd(m, lo, idx, hi);
  }
  static V load_step(M m, const double* src, int64_t step) {
    const __m256i idx = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(int(step)));
    return _mm512_mask_i32gather_pd(_mm512_setzero_pd(), m, idx, src, 8);
  }
};

}  // namespace convbp::avx512
