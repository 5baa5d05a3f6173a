// The "rows" micro-kernel of the direct route, written once over a vector-traits
// class VT (vec-<isa>.hpp) and instantiated by each ISA's f32/f64-direct-rows-<isa>.cpp.
// Contract: direct-args.hpp. This file is included *inside* an ISA namespace
// (convbp::avx512, ...), so every function it defines, even an inline one, is a
// distinct symbol per ISA and the linker cannot merge an AVX-512 copy into
// generic code. Hence no #include and no calls into std:: here.
//
// Register tile: MI output rows x NV vectors of j, held in registers while all
// taps stream through (Zhang, Franchetti, Low, ICML 2018: outputs stay in
// registers, inputs are read once per tile from cache). The MI rows are (plane,
// row) pairs taken in order, so small planes fill a tile together. Per tap, per
// tile: a tap valid on the whole tile takes plain loads; one valid on every
// column the tile has takes the tile's tail masks; one valid on part of it takes
// masks built from its range (padding as index ranges, never a read outside
// [lo, hi)); one that misses the tile is skipped.

namespace direct_rows_detail {

// How the MI rows of a tile share operands.
enum Mode { kSharedSrc, kSharedW, kIndependent };

// Offsets of each tile row's src, weight, out and bias from the call's pointers.
template <int MI>
struct RowOffsets {
  int64_t src[MI], w[MI], out[MI], bias[MI];
};

template <class VT, int MI, int NV, int kMode>
void tile(const DirectRowsArgs<typename VT::T>& a, const RowOffsets<MI>& o, int64_t j0) {
  using T = typename VT::T;
  using V = typename VT::V;
  using M = typename VT::M;
  constexpr int L = VT::L;
  constexpr int64_t B = int64_t(NV) * L;
  const int64_t jn = a.n - j0 < B ? a.n - j0 : B;  // columns this tile has
  const bool full = jn == B;
  const int64_t ntaps = a.ntaps;
  const T* const* srcs = a.src;
  const T* const* ws = a.w;
  const int64_t* los = a.lo;
  const int64_t* his = a.hi;
  M tail[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) tail[v] = VT::lanes(-v * L, jn - v * L);
  V acc[MI][NV];
  T* out = a.out + j0;
  if (a.bias) {
#pragma GCC unroll 8
    for (int i = 0; i < MI; ++i) {
      const V b = VT::set1(a.bias[o.bias[i]]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = b;
    }
  } else {
#pragma GCC unroll 8
    for (int i = 0; i < MI; ++i) {
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v)
        acc[i][v] = full ? VT::load(out + o.out[i] + v * L) : VT::load(out + o.out[i] + v * L, tail[v]);
    }
  }
  for (int64_t t = 0; t < ntaps; ++t) {
    const int64_t lo = los[t] - j0, hi = his[t] - j0;
    if (hi <= 0 || lo >= jn || lo >= hi) continue;
    const T* s = srcs[t] + j0;
    const T* w = ws[t];
    // One FMA of tile row i, vector v, with input x.
    auto wv = [&](int i) { return VT::set1(w[o.w[kMode == kSharedW ? 0 : i]]); };
    if (lo <= 0 && hi >= B) {  // full tile, no masks
      if constexpr (kMode == kSharedSrc) {
        V x[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) x[v] = VT::load(s + o.src[0] + v * L);
#pragma GCC unroll 8
        for (int i = 0; i < MI; ++i) {
          const V wi = wv(i);
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v) acc[i][v] = VT::fma(wi, x[v], acc[i][v]);
        }
      } else {
#pragma GCC unroll 8
        for (int i = 0; i < MI; ++i) {
          const V wi = wv(i);
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v) acc[i][v] = VT::fma(wi, VT::load(s + o.src[i] + v * L), acc[i][v]);
        }
      }
      continue;
    }
    M mk[NV];
    if (lo <= 0 && hi >= jn) {  // every column the tile has: its tail masks
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) mk[v] = tail[v];
    } else {
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) mk[v] = VT::lanes(lo - v * L, (hi < jn ? hi : jn) - v * L);
    }
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      if (VT::none(mk[v])) continue;
      if constexpr (kMode == kSharedSrc) {
        const V x = VT::load(s + o.src[0] + v * L, mk[v]);
#pragma GCC unroll 8
        for (int i = 0; i < MI; ++i) acc[i][v] = VT::fma(wv(i), x, acc[i][v]);
      } else {
#pragma GCC unroll 8
        for (int i = 0; i < MI; ++i) acc[i][v] = VT::fma(wv(i), VT::load(s + o.src[i] + v * L, mk[v]), acc[i][v]);
      }
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MI; ++i) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      if (full) VT::store(out + o.out[i] + v * L, acc[i][v]);
      else if (!VT::none(tail[v])) VT::store(out + o.out[i] + v * L, acc[i][v], tail[v]);
    }
  }
}

// One tile of rows f0 .. f0 + MI - 1 of the flattened (plane, row) sequence.
template <class VT, int MI, int NV, bool kSrcShared>
void tile_at(const DirectRowsArgs<typename VT::T>& a, int64_t f0, int64_t j0) {
  RowOffsets<MI> o;
  bool one_plane = true;
  const int64_t z0 = f0 / a.m;
  for (int i = 0; i < MI; ++i) {
    const int64_t z = (f0 + i) / a.m, r = (f0 + i) % a.m;
    one_plane = one_plane && z == z0;
    o.src[i] = z * a.src_p + r * a.src_i;
    o.w[i] = z * a.w_p + r * a.w_i;
    o.out[i] = z * a.out_p + r * a.out_i;
    o.bias[i] = z * a.bias_p + r * a.bias_i;
  }
  if constexpr (kSrcShared) tile<VT, MI, NV, kSharedSrc>(a, o, j0);
  else if (one_plane) tile<VT, MI, NV, kSharedW>(a, o, j0);
  else tile<VT, MI, NV, kIndependent>(a, o, j0);
}

template <class VT, int NV, bool kSrcShared>
void tile_mi(const DirectRowsArgs<typename VT::T>& a, int mi, int64_t f0, int64_t j0) {
  constexpr int MImax = VT::kAcc / NV < 6 ? VT::kAcc / NV : 6;
  switch (mi) {
    case 1: tile_at<VT, 1, NV, kSrcShared>(a, f0, j0); break;
    case 2: if constexpr (MImax >= 2) tile_at<VT, 2, NV, kSrcShared>(a, f0, j0); break;
    case 3: if constexpr (MImax >= 3) tile_at<VT, 3, NV, kSrcShared>(a, f0, j0); break;
    case 4: if constexpr (MImax >= 4) tile_at<VT, 4, NV, kSrcShared>(a, f0, j0); break;
    case 5: if constexpr (MImax >= 5) tile_at<VT, 5, NV, kSrcShared>(a, f0, j0); break;
    default: if constexpr (MImax >= 6) tile_at<VT, 6, NV, kSrcShared>(a, f0, j0); break;
  }
}

// Rows outer (tiles of up to MImax rows; the input rows a tile reads stay in L1
// for the next tile's overlapping taps), columns inner in blocks of 4 vectors and
// one last block of the 1-3 vectors left, so only the row's last vector is ragged.
// Shared-source tiles stay in one plane (their rows must read the same input).
template <class VT, int NV4, bool kSrcShared>
void run_vt(const DirectRowsArgs<typename VT::T>& a) {
  constexpr int L = VT::L;
  const int64_t nvec = (a.n + L - 1) / L, rest = nvec % NV4, j_rest = (nvec - rest) * L;
  auto row_tiles = [&](int64_t f0, int mi) {
    for (int64_t j0 = 0; j0 < j_rest; j0 += int64_t(NV4) * L) tile_mi<VT, NV4, kSrcShared>(a, mi, f0, j0);
    if constexpr (NV4 > 1) {
      if (rest == 1) tile_mi<VT, 1, kSrcShared>(a, mi, f0, j_rest);
      else if (rest == 2) tile_mi<VT, 2, kSrcShared>(a, mi, f0, j_rest);
      else if (rest == 3) tile_mi<VT, 3, kSrcShared>(a, mi, f0, j_rest);
    }
  };
  // The tile height is set by the widest block; narrower ones reuse it.
  constexpr int MImax = VT::kAcc / NV4 < 6 ? VT::kAcc / NV4 : 6;
  if constexpr (kSrcShared) {
    for (int64_t z = 0; z < a.planes; ++z)
      for (int64_t i0 = 0; i0 < a.m; i0 += MImax) row_tiles(z * a.m + i0, int(a.m - i0 < MImax ? a.m - i0 : MImax));
  } else {
    const int64_t rows = a.planes * a.m;
    for (int64_t f0 = 0; f0 < rows; f0 += MImax) row_tiles(f0, int(rows - f0 < MImax ? rows - f0 : MImax));
  }
}

template <class VT, bool kSrcShared>
void run(const DirectRowsArgs<typename VT::T>& a) {
  // Rows that fit in a half-width vector (VT::Half, where the ISA has one) take
  // it, so fewer lanes idle; others take full vectors, 4 per block.
  if (a.n <= VT::Half::L && VT::Half::L < VT::L) run_vt<typename VT::Half, 1, kSrcShared>(a);
  else run_vt<VT, 4, kSrcShared>(a);
}

}  // namespace direct_rows_detail

template <class VT>
void direct_rows(const DirectRowsArgs<typename VT::T>& a) {
  if (a.planes <= 0 || a.m <= 0 || a.n <= 0) return;
  if (a.src_i == 0) direct_rows_detail::run<VT, true>(a);
  else direct_rows_detail::run<VT, false>(a);
}
