// The AVX-512 GEMM micro-kernel, written once for every tile shape and dtype
// the kernel table lists (f32-gemm-8x48-avx512.cpp, f32-gemm-8x32-avx512.cpp,
// ...): an MR x (NV vectors) tile of C held in MR*NV zmm accumulators. Per k
// step it loads one row of the packed B micro-panel (NV vectors) and broadcasts
// the MR values of the packed A column into the FMAs; with MR*NV + NV <= 30 all
// stays in registers. Contract: cpp/kernels/kernels.hpp (gemm micro-kernel).
#pragma once

#include <cstdint>

#include "kernels/avx512/simd-avx512.hpp"

namespace convbp::avx512 {

template <typename T, int MR, int NV>
inline void gemm_ukernel(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, int64_t m, int64_t n,
                         bool accumulate) {
  using S = Simd<T>;
  using V = typename S::V;
  constexpr int L = S::L, NR = NV * L;
  V acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = S::zero();

  auto step = [&](const T* ap, const T* bp) {
    V bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = S::loadu(bp + v * L);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const V ai = S::set1(ap[i]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = S::fmadd(ai, bv[v], acc[i][v]);
    }
  };
  // The C tile is read and written only after the k loop. Its lines are
  // prefetched 48 steps before the end: early enough to hide a miss to memory,
  // late enough that the B panel streaming through L1 has not evicted them
  // (measured: +2-3% with C in L3 or memory; insensitive between 24 and 96).
  constexpr int64_t kPrefetchSteps = 48;
  const int64_t k_main = kc > kPrefetchSteps ? kc - kPrefetchSteps : 0;
  for (int64_t p = 0; p < k_main; ++p, a += MR, b += NR) step(a, b);
  for (int i = 0; i < MR && i < m; ++i) {
    const char* row = reinterpret_cast<const char*>(c + i * ldc);
    for (int64_t off = 0; off < NR * int64_t(sizeof(T)); off += 64) _mm_prefetch(row + off, _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + n - 1), _MM_HINT_T0);
  }
  for (int64_t p = k_main; p < kc; ++p, a += MR, b += NR) step(a, b);

  // Masked loads and stores touch only the n valid columns (masked-off lanes
  // never fault); rows >= m are never touched. With accumulate false C is not
  // read at all, so it may hold garbage, NaN included.
  typename S::M mask[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) mask[v] = S::first(n - v * L);
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    if (i >= m) break;
    T* row = c + i * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      V x = acc[i][v];
      if (accumulate) x = S::add(x, S::load(mask[v], row + v * L));
      S::store(row + v * L, mask[v], x);
    }
  }
}

}  // namespace convbp::avx512
