// Baseline (SSE2) vector traits for the ISA-free kernel templates
// (direct-rows.inl, direct-dots.inl), written with GCC vector extensions so the
// compiler emits 128-bit SSE2 code. No FMA instruction here: fma(a, b, c) is a
// multiply and an add. A mask is a lane range; masked accesses loop over it only.
#pragma once

#include <cstdint>

namespace convbp::generic {

inline int64_t clamp_lane(int64_t v, int64_t n) { return v < 0 ? 0 : (v > n ? n : v); }

struct LaneRange {
  int lo, hi;
};

template <typename TT, int LL>
struct VecGeneric {
  using T = TT;
  typedef T V __attribute__((vector_size(16)));
  using M = LaneRange;
  using Half = VecGeneric;  // no narrower vector: short rows use this one
  static constexpr int L = LL;
  static constexpr int kAcc = 12;  // 16 xmm registers
  static V zero() { return V{}; }
  static V set1(T a) { return V{} + a; }
  static V load(const T* p) {
    V v;
    __builtin_memcpy(&v, p, sizeof(V));
    return v;
  }
  static V load(const T* p, M m) {
    V v = zero();
    for (int l = m.lo; l < m.hi; ++l) v[l] = p[l];
    return v;
  }
  static void store(T* p, V v) { __builtin_memcpy(p, &v, sizeof(V)); }
  static void store(T* p, V v, M m) {
    for (int l = m.lo; l < m.hi; ++l) p[l] = v[l];
  }
  static V fma(V a, V b, V c) { return a * b + c; }
  static M lanes(int64_t lo, int64_t hi) { return M{int(clamp_lane(lo, L)), int(clamp_lane(hi, L))}; }
  static constexpr bool kBits = false;  // a mask is one lane range: no flat plane kernels
  static bool none(M m) { return m.lo >= m.hi; }
  static void add_to(double* acc, V v) {
    for (int l = 0; l < L; ++l) acc[l] += double(v[l]);
  }
  // The lanes' sum in a fixed order (pairwise halves): deterministic.
  static T sum(V v) {
    for (int w = L / 2; w > 0; w /= 2)
      for (int l = 0; l < w; ++l) v[l] += v[l + w];
    return v[0];
  }
};

using VecF32 = VecGeneric<float, 4>;
using VecF64 = VecGeneric<double, 2>;

}  // namespace convbp::generic
