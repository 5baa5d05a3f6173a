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
};

}  // namespace convbp::avx512
