// AVX2 + FMA vector traits for the ISA-free kernel templates (direct-rows.inl,
// direct-dots.inl, ...) and the AVX2 GEMM micro-kernel (gemm-ukernel-avx2.hpp). Masks are integer vectors (all ones in enabled lanes);
// vmaskmov loads and stores touch only the enabled lanes.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace convbp::avx2 {

inline int64_t clamp_lane(int64_t v, int64_t n) { return v < 0 ? 0 : (v > n ? n : v); }

// Half-width (xmm) traits for rows of at most 4 floats / 2 doubles, so short rows
// idle fewer lanes.
struct VecF32x4 {
  using T = float;
  using V = __m128;
  using M = __m128i;
  using Half = VecF32x4;
  static constexpr int L = 4;
  static constexpr int kAcc = 12;
  static V zero() { return _mm_setzero_ps(); }
  static V set1(T a) { return _mm_set1_ps(a); }
  static V load(const T* p) { return _mm_loadu_ps(p); }
  static V load(const T* p, M m) { return _mm_maskload_ps(p, m); }
  static void store(T* p, V v) { _mm_storeu_ps(p, v); }
  static void store(T* p, V v, M m) { _mm_maskstore_ps(p, m, v); }
  static V fma(V a, V b, V c) { return _mm_fmadd_ps(a, b, c); }
  static M lanes(int64_t lo, int64_t hi) {
    const __m128i iota = _mm_setr_epi32(0, 1, 2, 3);
    const __m128i a = _mm_set1_epi32(int(clamp_lane(lo, L)) - 1), b = _mm_set1_epi32(int(clamp_lane(hi, L)));
    return _mm_and_si128(_mm_cmpgt_epi32(iota, a), _mm_cmpgt_epi32(b, iota));
  }
  static constexpr bool kBits = false;  // only the full-width traits serve the flat kernels
  static bool none(M m) { return _mm_testz_si128(m, m); }
  static void add_to(double* acc, V v) {
    _mm256_storeu_pd(acc, _mm256_add_pd(_mm256_loadu_pd(acc), _mm256_cvtps_pd(v)));
  }
  // The lanes' sum in a fixed order (pairwise halves): deterministic.
  static T sum(V v) {
    const __m128 a = _mm_add_ps(v, _mm_movehl_ps(v, v));
    return _mm_cvtss_f32(_mm_add_ss(a, _mm_movehdup_ps(a)));
  }
};

struct VecF64x2 {
  using T = double;
  using V = __m128d;
  using M = __m128i;
  using Half = VecF64x2;
  static constexpr int L = 2;
  static constexpr int kAcc = 12;
  static V zero() { return _mm_setzero_pd(); }
  static V set1(T a) { return _mm_set1_pd(a); }
  static V load(const T* p) { return _mm_loadu_pd(p); }
  static V load(const T* p, M m) { return _mm_maskload_pd(p, m); }
  static void store(T* p, V v) { _mm_storeu_pd(p, v); }
  static void store(T* p, V v, M m) { _mm_maskstore_pd(p, m, v); }
  static V fma(V a, V b, V c) { return _mm_fmadd_pd(a, b, c); }
  static M lanes(int64_t lo, int64_t hi) {
    const __m128i iota = _mm_set_epi64x(1, 0);
    const __m128i a = _mm_set1_epi64x(clamp_lane(lo, L) - 1), b = _mm_set1_epi64x(clamp_lane(hi, L));
    return _mm_and_si128(_mm_cmpgt_epi64(iota, a), _mm_cmpgt_epi64(b, iota));
  }
  static constexpr bool kBits = false;  // only the full-width traits serve the flat kernels
  static bool none(M m) { return _mm_testz_si128(m, m); }
  static void add_to(double* acc, V v) { _mm_storeu_pd(acc, _mm_add_pd(_mm_loadu_pd(acc), v)); }
  // The lanes' sum in a fixed order: deterministic.
  static T sum(V v) { return _mm_cvtsd_f64(_mm_add_sd(v, _mm_unpackhi_pd(v, v))); }
};

struct VecF32 {
  using T = float;
  using V = __m256;
  using M = __m256i;
  using Half = VecF32x4;
  static constexpr int L = 8;
  static constexpr int kAcc = 12;  // accumulators a tile may hold (16 ymm registers)
  static V zero() { return _mm256_setzero_ps(); }
  static V set1(T a) { return _mm256_set1_ps(a); }
  static V load(const T* p) { return _mm256_loadu_ps(p); }
  static V load(const T* p, M m) { return _mm256_maskload_ps(p, m); }
  static void store(T* p, V v) { _mm256_storeu_ps(p, v); }
  static void store(T* p, V v, M m) { _mm256_maskstore_ps(p, m, v); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  // Lanes l with lo <= l < hi.
  static M lanes(int64_t lo, int64_t hi) {
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i a = _mm256_set1_epi32(int(clamp_lane(lo, L)) - 1), b = _mm256_set1_epi32(int(clamp_lane(hi, L)));
    return _mm256_and_si256(_mm256_cmpgt_epi32(iota, a), _mm256_cmpgt_epi32(b, iota));
  }
  // Any lane pattern (bit l = lane l): the flat plane kernels' masks.
  static constexpr bool kBits = true;
  static M bits(unsigned b) {
    const __m256i sel = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    return _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(int(b)), sel), sel);
  }
  static bool none(M m) { return _mm256_testz_si256(m, m); }
  // acc[l] += v[l] in float64, l < 8.
  static void add_to(double* acc, V v) {
    const __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
    const __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
    _mm256_storeu_pd(acc, _mm256_add_pd(_mm256_loadu_pd(acc), lo));
    _mm256_storeu_pd(acc + 4, _mm256_add_pd(_mm256_loadu_pd(acc + 4), hi));
  }
  // The lanes' sum in a fixed order (pairwise halves): deterministic.
  static T sum(V v) { return VecF32x4::sum(_mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1))); }
};

struct VecF64 {
  using T = double;
  using V = __m256d;
  using M = __m256i;
  using Half = VecF64x2;
  static constexpr int L = 4;
  static constexpr int kAcc = 12;
  static V zero() { return _mm256_setzero_pd(); }
  static V set1(T a) { return _mm256_set1_pd(a); }
  static V load(const T* p) { return _mm256_loadu_pd(p); }
  static V load(const T* p, M m) { return _mm256_maskload_pd(p, m); }
  static void store(T* p, V v) { _mm256_storeu_pd(p, v); }
  static void store(T* p, V v, M m) { _mm256_maskstore_pd(p, m, v); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  static V add(V a, V b) { return _mm256_add_pd(a, b); }
  static M lanes(int64_t lo, int64_t hi) {
    const __m256i iota = _mm256_setr_epi64x(0, 1, 2, 3);
    const __m256i a = _mm256_set1_epi64x(clamp_lane(lo, L) - 1), b = _mm256_set1_epi64x(clamp_lane(hi, L));
    return _mm256_and_si256(_mm256_cmpgt_epi64(iota, a), _mm256_cmpgt_epi64(b, iota));
  }
  // Any lane pattern (bit l = lane l): the flat plane kernels' masks.
  static constexpr bool kBits = true;
  static M bits(unsigned b) {
    const __m256i sel = _mm256_setr_epi64x(1, 2, 4, 8);
    return _mm256_cmpeq_epi64(_mm256_and_si256(_mm256_set1_epi64x(int64_t(b)), sel), sel);
  }
  static bool none(M m) { return _mm256_testz_si256(m, m); }
  static void add_to(double* acc, V v) { _mm256_storeu_pd(acc, _mm256_add_pd(_mm256_loadu_pd(acc), v)); }
  // The lanes' sum in a fixed order (pairwise halves): deterministic.
  static T sum(V v) { return VecF64x2::sum(_mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1))); }
};

}  // namespace convbp::avx2
