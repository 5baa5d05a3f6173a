// The "rows" micro-kernel of the direct route, written once over a vector-traits
// class VT (vec-<isa>.hpp) and instantiated by each ISA's f32/f64-direct-rows-<isa>.cpp.
// Contract: direct-args.hpp. This file is included *inside* an ISA namespace
// (convbp::avx512, ...), so every function it defines, even an inline one, is a
// distinct symbol per ISA and the linker cannot merge an AVX-512 copy into
// generic code. Hence no #include and no calls into std:: here.
//
// Register tile: MI outputs (rows or channels) x NV vectors of j, held in
// registers while all taps stream through (Zhang, Franchetti, Low, ICML 2018:
// outputs stay in registers, inputs are read once per tile from cache). A tap
// whose valid column range covers the whole tile takes plain loads; a tap that
// covers part of it takes masked loads (padding as index ranges, never a read
// outside [lo, hi)); a tap that misses the tile is skipped.

namespace direct_rows_detail {

// Pointer offsets of plane z.
struct PlaneOffsets {
  int64_t src, w, out, bias;
};

template <class VT, int MI, int NV, bool kSharedSrc>
void tile(const DirectRowsArgs<typename VT::T>& a, const PlaneOffsets& z, int64_t i0, int64_t j0) {
  using T = typename VT::T;
  using V = typename VT::V;
  using M = typename VT::M;
  constexpr int L = VT::L;
  constexpr int64_t B = int64_t(NV) * L;
  const int64_t jn = a.n - j0;  // columns of this tile that exist: [0, min(B, jn))
  const bool full = jn >= B;
  V acc[MI][NV];
  T* out = a.out + z.out + i0 * a.out_i + j0;
  if (a.bias) {
#pragma GCC unroll 8
    for (int i = 0; i < MI; ++i) {
      const V b = VT::set1(a.bias[z.bias + (i0 + i) * a.bias_i]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = b;
    }
  } else {
#pragma GCC unroll 8
    for (int i = 0; i < MI; ++i) {
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v)
        acc[i][v] = full ? VT::load(out + i * a.out_i + v * L)
                         : VT::load(out + i * a.out_i + v * L, VT::lanes(-v * L, jn - v * L));
    }
  }
  for (int64_t t = 0; t < a.ntaps; ++t) {
    const int64_t lo = a.lo[t] - j0, hi = a.hi[t] - j0;
    if (hi <= 0 || lo >= B || lo >= hi) continue;
    const T* s = a.src[t] + z.src + i0 * a.src_i + j0;
    const T* w = a.w[t] + z.w + i0 * a.w_i;
    if (lo <= 0 && hi >= B) {
      if constexpr (kSharedSrc) {
        V x[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) x[v] = VT::load(s + v * L);
#pragma GCC unroll 8
        for (int i = 0; i < MI; ++i) {
          const V wv = VT::set1(w[i * a.w_i]);
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v) acc[i][v] = VT::fma(wv, x[v], acc[i][v]);
        }
      } else {
        const V wv = VT::set1(w[0]);
#pragma GCC unroll 8
        for (int i = 0; i < MI; ++i) {
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v) acc[i][v] = VT::fma(wv, VT::load(s + i * a.src_i + v * L), acc[i][v]);
        }
      }
    } else {
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        const M mk = VT::lanes(lo - v * L, hi - v * L);
        if (VT::none(mk)) continue;
        if constexpr (kSharedSrc) {
          const V x = VT::load(s + v * L, mk);
#pragma GCC unroll 8
          for (int i = 0; i < MI; ++i) acc[i][v] = VT::fma(VT::set1(w[i * a.w_i]), x, acc[i][v]);
        } else {
          const V wv = VT::set1(w[0]);
#pragma GCC unroll 8
          for (int i = 0; i < MI; ++i) acc[i][v] = VT::fma(wv, VT::load(s + i * a.src_i + v * L, mk), acc[i][v]);
        }
      }
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MI; ++i) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      if (full) {
        VT::store(out + i * a.out_i + v * L, acc[i][v]);
      } else {
        const M mk = VT::lanes(-v * L, jn - v * L);
        if (!VT::none(mk)) VT::store(out + i * a.out_i + v * L, acc[i][v], mk);
      }
    }
  }
}

// Runs each plane's m x n block as tiles of mi (<= MImax) rows by NV vectors: rows
// outer, so the input rows a tile reads stay in L1 for the next tile's overlapping taps.
template <class VT, int NV, bool kSharedSrc>
void run_nv(const DirectRowsArgs<typename VT::T>& a) {
  constexpr int MImax = VT::kAcc / NV < 6 ? VT::kAcc / NV : 6;
  constexpr int64_t B = int64_t(NV) * VT::L;
  for (int64_t p = 0; p < a.planes; ++p) {
    const PlaneOffsets z{p * a.src_p, p * a.w_p, p * a.out_p, p * a.bias_p};
    for (int64_t i0 = 0; i0 < a.m;) {
      const int64_t left = a.m - i0;
      const int mi = int(left < MImax ? left : MImax);
      for (int64_t j0 = 0; j0 < a.n; j0 += B) {
        switch (mi) {
          case 1: tile<VT, 1, NV, kSharedSrc>(a, z, i0, j0); break;
          case 2: if constexpr (MImax >= 2) tile<VT, 2, NV, kSharedSrc>(a, z, i0, j0); break;
          case 3: if constexpr (MImax >= 3) tile<VT, 3, NV, kSharedSrc>(a, z, i0, j0); break;
          case 4: if constexpr (MImax >= 4) tile<VT, 4, NV, kSharedSrc>(a, z, i0, j0); break;
          case 5: if constexpr (MImax >= 5) tile<VT, 5, NV, kSharedSrc>(a, z, i0, j0); break;
          default: if constexpr (MImax >= 6) tile<VT, 6, NV, kSharedSrc>(a, z, i0, j0); break;
        }
      }
      i0 += mi;
    }
  }
}

template <class VT, bool kSharedSrc>
void run(const DirectRowsArgs<typename VT::T>& a) {
  // Wide rows take 4-vector tiles; short rows take narrower tiles, and rows that fit
  // in a half-width vector (VT::Half, where the ISA has one) take that, so fewer
  // lanes idle.
  if (a.n > 2 * VT::L) run_nv<VT, 4, kSharedSrc>(a);
  else if (a.n > VT::L) run_nv<VT, 2, kSharedSrc>(a);
  else if (a.n > VT::Half::L) run_nv<VT, 1, kSharedSrc>(a);
  else run_nv<typename VT::Half, 1, kSharedSrc>(a);
}

}  // namespace direct_rows_detail

template <class VT>
void direct_rows(const DirectRowsArgs<typename VT::T>& a) {
  if (a.planes <= 0 || a.m <= 0 || a.n <= 0) return;
  if (a.src_i == 0) direct_rows_detail::run<VT, true>(a);
  else direct_rows_detail::run<VT, false>(a);
}
