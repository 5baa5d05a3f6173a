// AVX-512 vector traits for the ISA-free kernel templates (direct-rows.inl,
// direct-dots.inl): one register type, a lane mask and the few operations the
// templates need. Masked loads and stores touch only the enabled lanes, so a mask
// built from a valid index range never reads or writes outside it.
#pragma once

#include <immintrin.h>

#include <cstdint>

// GCC 12's avx512fintrin.h builds the pass-through operand of unmasked
// conversions from _mm512_undefined_*(), which -Wuninitialized reports at every
// use (GCC bug 105593); the warning is about the header, not this code.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace convbp::avx512 {

inline int64_t clamp_lane(int64_t v, int64_t n) { return v < 0 ? 0 : (v > n ? n : v); }

// Half-width (ymm, AVX-512VL masks) traits for rows of at most 8 floats / 4
// doubles: on cores that split zmm into two ymm halves they cost no throughput per
// lane, and they idle half as many lanes on short rows.
struct VecF32x8 {
  using T = float;
  using V = __m256;
  using M = __mmask8;
  using Half = VecF32x8;
  static constexpr int L = 8;
  static constexpr int kAcc = 24;
  static V zero() { return _mm256_setzero_ps(); }
  static V set1(T a) { return _mm256_set1_ps(a); }
  static V load(const T* p) { return _mm256_loadu_ps(p); }
  static V load(const T* p, M m) { return _mm256_maskz_loadu_ps(m, p); }
  static void store(T* p, V v) { _mm256_storeu_ps(p, v); }
  static void store(T* p, V v, M m) { _mm256_mask_storeu_ps(p, m, v); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static M lanes(int64_t lo, int64_t hi) {
    const unsigned a = unsigned(clamp_lane(lo, L)), b = unsigned(clamp_lane(hi, L));
    return M(((1u << b) - 1u) & ~((1u << a) - 1u));
  }
  static constexpr bool kBits = false;  // only the full-width traits serve the flat kernels
  static bool none(M m) { return m == 0; }
  static void add_to(double* acc, V v) {
    _mm512_storeu_pd(acc, _mm512_add_pd(_mm512_loadu_pd(acc), _mm512_cvtps_pd(v)));
  }
  // The lanes' sum in a fixed order (pairwise halves): deterministic.
  static T sum(V v) {
    __m128 a = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    a = _mm_add_ps(a, _mm_movehl_ps(a, a));
    return _mm_cvtss_f32(_mm_add_ss(a, _mm_movehdup_ps(a)));
  }
};

struct VecF64x4 {
  using T = double;
  using V = __m256d;
  using M = __mmask8;
  using Half = VecF64x4;
  static constexpr int L = 4;
  static constexpr int kAcc = 24;
  static V zero() { return _mm256_setzero_pd(); }
  static V set1(T a) { return _mm256_set1_pd(a); }
  static V load(const T* p) { return _mm256_loadu_pd(p); }
  static V load(const T* p, M m) { return _mm256_maskz_loadu_pd(m, p); }
  static void store(T* p, V v) { _mm256_storeu_pd(p, v); }
  static void store(T* p, V v, M m) { _mm256_mask_storeu_pd(p, m, v); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  static M lanes(int64_t lo, int64_t hi) {
    const unsigned a = unsigned(clamp_lane(lo, L)), b = unsigned(clamp_lane(hi, L));
    return M(((1u << b) - 1u) & ~((1u << a) - 1u));
  }
  static constexpr bool kBits = false;  // only the full-width traits serve the flat kernels
  static bool none(M m) { return m == 0; }
  static void add_to(double* acc, V v) { _mm256_storeu_pd(acc, _mm256_add_pd(_mm256_loadu_pd(acc), v)); }
  // The lanes' sum in a fixed order (pairwise halves): deterministic.
  static T sum(V v) {
    const __m128d a = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(a, _mm_unpackhi_pd(a, a)));
  }
};

struct VecF32 {
  using T = float;
  using V = __m512;
  using M = __mmask16;
  using Half = VecF32x8;
  static constexpr int L = 16;
  static constexpr int kAcc = 24;  // accumulators a tile may hold (32 zmm registers)
  static V zero() { return _mm512_setzero_ps(); }
  static V set1(T a) { return _mm512_set1_ps(a); }
  static V load(const T* p) { return _mm512_loadu_ps(p); }
  static V load(const T* p, M m) { return _mm512_maskz_loadu_ps(m, p); }
  static void store(T* p, V v) { _mm512_storeu_ps(p, v); }
  static void store(T* p, V v, M m) { _mm512_mask_storeu_ps(p, m, v); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  // Lanes l with lo <= l < hi.
  static M lanes(int64_t lo, int64_t hi) {
    const unsigned a = unsigned(clamp_lane(lo, L)), b = unsigned(clamp_lane(hi, L));
    return M(((1u << b) - 1u) & ~((1u << a) - 1u));
  }
  // Any lane pattern (bit l = lane l): the flat plane kernels' masks.
  static constexpr bool kBits = true;
  static M bits(unsigned b) { return M(b); }
  static bool none(M m) { return m == 0; }
  // The flat kernels' tap runs (direct-plane-flat.inl): shift_in<S>(lo, hi) is lanes
  // [S, S + L) of lo's lanes followed by hi's, one valignd; keep(v) pins a loaded
  // vector in a register, so the compiler does not fold its load into each of its
  // uses again (on this Zen 5 a 512-bit load issues once per cycle, half the FMA rate).
  static constexpr bool kShiftIn = true;
  template <int S>
  static V shift_in(V lo, V hi) {
    return _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(hi), _mm512_castps_si512(lo), S));
  }
  template <int S>
  static V shift_in(V lo, V hi, M m) {  // 0 outside m
    return _mm512_castsi512_ps(_mm512_maskz_alignr_epi32(m, _mm512_castps_si512(hi), _mm512_castps_si512(lo), S));
  }
  static V keep(V v) {
    __asm__("" : "+v"(v));
    return v;
  }
  // Lane permutes and masked FMAs (the plane-expand kernel): lane l of permute(idx, v)
  // is v[idx[l]]; fma(a, b, c, m) is a*b + c in the lanes of m and c elsewhere.
  using I = __m512i;
  static I index(const int32_t* idx) { return _mm512_loadu_si512(idx); }
  static V permute(I idx, V v) { return _mm512_permutexvar_ps(idx, v); }
  // Lane l of permute2(idx, a, b) is lane idx[l] of a's lanes followed by b's.
  static V permute2(I idx, V a, V b) { return _mm512_permutex2var_ps(a, idx, b); }
  static V permute2(I idx, V a, V b, M m) { return _mm512_maskz_permutex2var_ps(m, a, idx, b); }  // 0 outside m
  static V fma(V a, V b, V c, M m) { return _mm512_mask3_fmadd_ps(a, b, c, m); }
  static V blend(M m, V a, V b) { return _mm512_mask_blend_ps(m, a, b); }  // b in the lanes of m
  // acc[l] += v[l] in float64, l < 16.
  static void add_to(double* acc, V v) {
    const __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
    const __m512d hi = _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1));
    _mm512_storeu_pd(acc, _mm512_add_pd(_mm512_loadu_pd(acc), lo));
    _mm512_storeu_pd(acc + 8, _mm512_add_pd(_mm512_loadu_pd(acc + 8), hi));
  }
  // The lanes' sum in a fixed order (pairwise halves): deterministic.
  static T sum(V v) {
    return VecF32x8::sum(_mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1)));
  }
};

struct VecF64 {
  using T = double;
  using V = __m512d;
  using M = __mmask8;
  using Half = VecF64x4;
  static constexpr int L = 8;
  static constexpr int kAcc = 24;
  static V zero() { return _mm512_setzero_pd(); }
  static V set1(T a) { return _mm512_set1_pd(a); }
  static V load(const T* p) { return _mm512_loadu_pd(p); }
  static V load(const T* p, M m) { return _mm512_maskz_loadu_pd(m, p); }
  static void store(T* p, V v) { _mm512_storeu_pd(p, v); }
  static void store(T* p, V v, M m) { _mm512_mask_storeu_pd(p, m, v); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
  static V add(V a, V b) { return _mm512_add_pd(a, b); }
  static M lanes(int64_t lo, int64_t hi) {
    const unsigned a = unsigned(clamp_lane(lo, L)), b = unsigned(clamp_lane(hi, L));
    return M(((1u << b) - 1u) & ~((1u << a) - 1u));
  }
  // Any lane pattern (bit l = lane l): the flat plane kernels' masks.
  static constexpr bool kBits = true;
  static M bits(unsigned b) { return M(b); }
  static bool none(M m) { return m == 0; }
  static constexpr bool kShiftIn = true;  // as VecF32
  template <int S>
  static V shift_in(V lo, V hi) {
    return _mm512_castsi512_pd(_mm512_alignr_epi64(_mm512_castpd_si512(hi), _mm512_castpd_si512(lo), S));
  }
  template <int S>
  static V shift_in(V lo, V hi, M m) {
    return _mm512_castsi512_pd(_mm512_maskz_alignr_epi64(m, _mm512_castpd_si512(hi), _mm512_castpd_si512(lo), S));
  }
  static V keep(V v) {
    __asm__("" : "+v"(v));
    return v;
  }
  using I = __m512i;
  static I index(const int32_t* idx) {
    return _mm512_cvtepi32_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(idx)));
  }
  static V permute(I idx, V v) { return _mm512_permutexvar_pd(idx, v); }
  static V permute2(I idx, V a, V b) { return _mm512_permutex2var_pd(a, idx, b); }
  static V permute2(I idx, V a, V b, M m) { return _mm512_maskz_permutex2var_pd(m, a, idx, b); }
  static V fma(V a, V b, V c, M m) { return _mm512_mask3_fmadd_pd(a, b, c, m); }
  static V blend(M m, V a, V b) { return _mm512_mask_blend_pd(m, a, b); }
  static void add_to(double* acc, V v) { _mm512_storeu_pd(acc, _mm512_add_pd(_mm512_loadu_pd(acc), v)); }
  // The lanes' sum in a fixed order (pairwise halves): deterministic.
  static T sum(V v) {
    return VecF64x4::sum(_mm256_add_pd(_mm512_castpd512_pd256(v), _mm512_extractf64x4_pd(v, 1)));
  }
};

}  // namespace convbp::avx512
