// The "rows" micro-kernel of the direct route, written once over a vector-traits
// class VT (vec-<isa>.hpp) and instantiated by each ISA's f32/f64-direct-rows-<isa>.cpp.
// Contract: direct-args.hpp. This file is included *inside* an ISA namespace
// (convbp::avx512, ...), so every function it defines, even an inline one, is a
// distinct symbol per ISA and the linker cannot merge an AVX-512 copy into
// generic code. Hence no #include and no calls into std:: here.
//
// Register tile: MI output rows x NV vectors of j, held in registers while all
// taps stream through (Zhang, Franchetti, Low, ICML 2018: outputs stay in
// registers, inputs are read once per tile from cache). The MI rows are rows of
// one plane, or the same row of MI planes, so small planes fill a tile too. Per tap, per
// tile: a tap valid on the whole tile takes plain loads; one valid on every
// column the tile has takes the tile's tail masks; one valid on part of it takes
// masks built from its range (padding as index ranges, never a read outside
// [lo, hi)); one that misses the tile is skipped.

namespace direct_rows_detail {

// How the MI rows of a tile share operands.
enum Mode { kSharedSrc, kSharedW, kOwn };
template <int K>
struct ModeTag {
  static constexpr int value = K;
};

// The tile's rows: row i reads src[t] + src + i*src_s and weight w[t][w + i*w_s],
// writes out + out + i*out_s, starts from bias[bias + i*bias_s]. A tile is MI rows
// of one plane (stepping by the call's row strides) or one row of MI planes
// (stepping by its plane strides), so every offset is linear in i.
struct TileRows {
  int64_t src, w, out, bias;
  int64_t src_s, w_s, out_s, bias_s;
};

template <class VT, int MI, int NV, int kMode>
void tile(const DirectRowsArgs<typename VT::T>& a, const TileRows& o, int64_t j0) {
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
  const int64_t ss = o.src_s, wss = o.w_s, os = o.out_s;
  M tail[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) tail[v] = VT::lanes(-v * L, jn - v * L);
  V acc[MI][NV];
  T* out = a.out + o.out + j0;
  if (a.bias) {
#pragma GCC unroll 8
    for (int i = 0; i < MI; ++i) {
      const V b = VT::set1(a.bias[o.bias + i * o.bias_s]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = b;
    }
  } else {
#pragma GCC unroll 8
    for (int i = 0; i < MI; ++i) {
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v)
        acc[i][v] = full ? VT::load(out + i * os + v * L) : VT::load(out + i * os + v * L, tail[v]);
    }
  }
  // Partial taps' masks by column range: a tap list repeats a few ranges (one per
  // kernel column: S of them), so building masks once per range and tile instead of
  // once per tap removes the scalar mask arithmetic that took a third of the tile's
  // time on ResNeXt's 56x56 grouped layer (4 channels per group).
  constexpr int kCache = 4;
  int64_t clo[kCache] = {}, chi[kCache] = {};
  M cmk[kCache][NV];
  int ncache = 0;
  unsigned victim = 0;
  for (int64_t t = 0; t < ntaps; ++t) {
    const int64_t lo = los[t] - j0, hi = his[t] - j0;
    if (hi <= 0 || lo >= jn || lo >= hi) continue;
    const T* s = srcs[t] + o.src + j0;
    const T* w = ws[t] + o.w;
    if (lo <= 0 && hi >= B) {  // full tile, no masks
      if constexpr (kMode == kSharedSrc) {
        V x[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) x[v] = VT::load(s + v * L);
#pragma GCC unroll 8
        for (int i = 0; i < MI; ++i) {
          const V wi = VT::set1(w[i * wss]);
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v) acc[i][v] = VT::fma(wi, x[v], acc[i][v]);
        }
      } else {
        const V w0 = VT::set1(w[0]);
#pragma GCC unroll 8
        for (int i = 0; i < MI; ++i) {
          const V wi = kMode == kSharedW ? w0 : VT::set1(w[i * wss]);
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v) acc[i][v] = VT::fma(wi, VT::load(s + i * ss + v * L), acc[i][v]);
        }
      }
      continue;
    }
    M mk[NV];
    if (lo <= 0 && hi >= jn) {  // every column the tile has: its tail masks
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) mk[v] = tail[v];
    } else {  // the masks of this column range, built once per tile (see kCache)
      const int64_t h = hi < jn ? hi : jn;
      int e = -1;
      for (int k = 0; k < ncache; ++k)
        if (clo[k] == lo && chi[k] == h) e = k;
      if (e < 0) {
        e = ncache < kCache ? ncache++ : int(victim++ % kCache);
        clo[e] = lo;
        chi[e] = h;
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) cmk[e][v] = VT::lanes(lo - v * L, h - v * L);
      }
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) mk[v] = cmk[e][v];
    }
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      if (VT::none(mk[v])) continue;
      if constexpr (kMode == kSharedSrc) {
        const V x = VT::load(s + v * L, mk[v]);
#pragma GCC unroll 8
        for (int i = 0; i < MI; ++i) acc[i][v] = VT::fma(VT::set1(w[i * wss]), x, acc[i][v]);
      } else {
        const V w0 = VT::set1(w[0]);
#pragma GCC unroll 8
        for (int i = 0; i < MI; ++i) {
          const V wi = kMode == kSharedW ? w0 : VT::set1(w[i * wss]);
          acc[i][v] = VT::fma(wi, VT::load(s + i * ss + v * L, mk[v]), acc[i][v]);
        }
      }
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MI; ++i) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      if (full) VT::store(out + i * os + v * L, acc[i][v]);
      else if (!VT::none(tail[v])) VT::store(out + i * os + v * L, acc[i][v], tail[v]);
    }
  }
}

template <class VT, int NV, int kMode>
void tile_mi(const DirectRowsArgs<typename VT::T>& a, int mi, const TileRows& o, int64_t j0) {
  constexpr int MImax = VT::kAcc / NV < 6 ? VT::kAcc / NV : 6;
  switch (mi) {
    case 1: tile<VT, 1, NV, kMode>(a, o, j0); break;
    case 2: if constexpr (MImax >= 2) tile<VT, 2, NV, kMode>(a, o, j0); break;
    case 3: if constexpr (MImax >= 3) tile<VT, 3, NV, kMode>(a, o, j0); break;
    case 4: if constexpr (MImax >= 4) tile<VT, 4, NV, kMode>(a, o, j0); break;
    case 5: if constexpr (MImax >= 5) tile<VT, 5, NV, kMode>(a, o, j0); break;
    default: if constexpr (MImax >= 6) tile<VT, 6, NV, kMode>(a, o, j0); break;
  }
}

// Rows outer (the input rows a tile reads stay in L1 for the next tile's
// overlapping taps), columns inner in blocks of 4 vectors and one last block of
// the 1-3 vectors left, so only the row's last vector is ragged. A call with at
// least a full tile of rows per plane tiles each plane's rows; one with fewer
// (small planes) tiles one row of several planes, which have their own weights
// unless the source is shared.
template <class VT, int NV4, bool kSrcShared>
void run_vt(const DirectRowsArgs<typename VT::T>& a) {
  constexpr int L = VT::L;
  constexpr int MImax = VT::kAcc / NV4 < 6 ? VT::kAcc / NV4 : 6;
  const int64_t nvec = (a.n + L - 1) / L, rest = nvec % NV4, j_rest = (nvec - rest) * L;
  auto row_tiles = [&](auto mode, int mi, const TileRows& o) {
    constexpr int kMode = decltype(mode)::value;
    for (int64_t j0 = 0; j0 < j_rest; j0 += int64_t(NV4) * L) tile_mi<VT, NV4, kMode>(a, mi, o, j0);
    if constexpr (NV4 > 1) {
      if (rest == 1) tile_mi<VT, 1, kMode>(a, mi, o, j_rest);
      else if (rest == 2) tile_mi<VT, 2, kMode>(a, mi, o, j_rest);
      else if (rest == 3) tile_mi<VT, 3, kMode>(a, mi, o, j_rest);
    }
  };
  using SharedSrc = ModeTag<kSharedSrc>;
  using SharedW = ModeTag<kSharedW>;
  using Own = ModeTag<kOwn>;
  if (kSrcShared || a.m >= MImax || a.planes == 1) {
    for (int64_t z = 0; z < a.planes; ++z)
      for (int64_t i0 = 0; i0 < a.m; i0 += MImax) {
        const TileRows o{z * a.src_p + i0 * a.src_i, z * a.w_p + i0 * a.w_i, z * a.out_p + i0 * a.out_i,
                         z * a.bias_p + i0 * a.bias_i, a.src_i, a.w_i, a.out_i, a.bias_i};
        const int mi = int(a.m - i0 < MImax ? a.m - i0 : MImax);
        if constexpr (kSrcShared) row_tiles(SharedSrc{}, mi, o);
        else row_tiles(SharedW{}, mi, o);
      }
  } else {
    for (int64_t z0 = 0; z0 < a.planes; z0 += MImax)
      for (int64_t r = 0; r < a.m; ++r) {
        const TileRows o{z0 * a.src_p + r * a.src_i, z0 * a.w_p + r * a.w_i, z0 * a.out_p + r * a.out_i,
                         z0 * a.bias_p + r * a.bias_i, a.src_p, a.w_p, a.out_p, a.bias_p};
        const int mi = int(a.planes - z0 < MImax ? a.planes - z0 : MImax);
        if (a.w_p == 0) row_tiles(SharedW{}, mi, o);
        else row_tiles(Own{}, mi, o);
      }
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
