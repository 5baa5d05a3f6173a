// The AVX2+FMA GEMM micro-kernel, written once for both dtypes
// (f32-gemm-6x16-avx2.cpp, f64-gemm-6x8-avx2.cpp): a 6 x (2 vectors) tile of C
// in 12 ymm accumulators; with the 2 B vectors and 1 broadcast that is 15 of
// the 16 ymm registers. Contract: cpp/kernels/kernels.hpp (gemm micro-kernel).
#pragma once

#include <cstdint>
#include <type_traits>

#include "kernels/avx2/vec-avx2.hpp"

namespace convbp::avx2 {

template <typename T, int MR, int NV>
inline void gemm_ukernel(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, int64_t m, int64_t n,
                         bool accumulate) {
  using VT = std::conditional_t<std::is_same_v<T, float>, VecF32, VecF64>;
  using V = typename VT::V;
  constexpr int L = VT::L, NR = NV * L;
  static_assert(MR * NV + NV + 1 <= 16, "the tile must fit the 16 ymm registers");
  V acc[MR][NV];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = VT::zero();

  for (int64_t p = 0; p < kc; ++p, a += MR, b += NR) {
    V bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = VT::load(b + v * L);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const V ai = VT::set1(a[i]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = VT::fma(ai, bv[v], acc[i][v]);
    }
  }

  // Only rows < m and columns < n are touched (masked moves never fault on the
  // masked-off lanes); C is read only when accumulating, so it may hold garbage.
  const bool full = n >= NR;
  typename VT::M mask[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) mask[v] = VT::lanes(0, n - v * L);
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
    if (i >= m) break;
    T* row = c + i * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      V x = acc[i][v];
      if (full) {
        if (accumulate) x = VT::add(x, VT::load(row + v * L));
        VT::store(row + v * L, x);
      } else {
        if (accumulate) x = VT::add(x, VT::load(row + v * L, mask[v]));
        VT::store(row + v * L, x, mask[v]);
      }
    }
  }
}

}  // namespace convbp::avx2
