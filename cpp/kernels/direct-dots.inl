// The "dots" micro-kernel of the direct route (backward-weight), written once over
// a vector-traits class VT (vec-<isa>.hpp) and instantiated by each ISA's
// f32/f64-direct-dots-<isa>.cpp. Contract: direct-args.hpp. Included *inside* an
// ISA namespace (see direct-rows.inl for why): no #include, no std:: calls.
//
// Register tile: MI dy rows x TC taps of vector accumulators. For each row and
// vector of j, the MI dy vectors are loaded once and each tap's input vector once,
// then MI*TC independent FMAs (Diba eq. 15: dw = x correlated with the dilated dy;
// the dilation is the tap's pointer offset and row stride, never a zero). Columns
// where every tap of the tile is valid run without masks; the edge columns (where
// padding makes some tap's range end) use masked loads.

namespace direct_dots_detail {

template <class VT, int MI, int TC>
void tile(const DirectDotsArgs<typename VT::T>& a, int64_t i0, int64_t t0) {
  using T = typename VT::T;
  using V = typename VT::V;
  using M = typename VT::M;
  constexpr int L = VT::L;
  const int64_t n = a.n, rows = a.rows, planes = a.planes;
  const int64_t src_row = a.src_row, src_p = a.src_p, dy_i = a.dy_i, dy_row = a.dy_row, dy_p = a.dy_p;
  const T* const* srcs = a.src + t0;
  const int64_t* los = a.lo + t0;
  const int64_t* his = a.hi + t0;
  V acc[MI][TC];
#pragma GCC unroll 4
  for (int i = 0; i < MI; ++i)
#pragma GCC unroll 8
    for (int c = 0; c < TC; ++c) acc[i][c] = VT::zero();
  // Vectors j0 in [ja, jb) (multiples of L) are inside every tap's range.
  int64_t lo_max = 0, hi_min = n;
  for (int c = 0; c < TC; ++c) {
    if (los[c] > lo_max) lo_max = los[c];
    if (his[c] < hi_min) hi_min = his[c];
  }
  const int64_t ja = (lo_max + L - 1) / L * L;
  const int64_t jb = hi_min >= ja + L ? ja + (hi_min - ja) / L * L : ja;
  // The masks of the first and the last vector, which every edge row has.
  const int64_t jl = (n - 1) / L * L;
  M first[TC], last[TC];
  for (int c = 0; c < TC; ++c) {
    first[c] = VT::lanes(los[c], his[c]);
    last[c] = VT::lanes(los[c] - jl, his[c] - jl);
  }
  const M dfirst = VT::lanes(0, n), dlast = VT::lanes(0, n - jl);
  const int64_t terms_per_plane = rows * (jl / L + 1);
  int64_t terms = 0;
  const T* src[TC];
  for (int64_t z = 0; z < planes; ++z) {
    if (terms > 0 && terms + terms_per_plane > kDotFlush) {  // bound float32 partial sums
#pragma GCC unroll 4
      for (int i = 0; i < MI; ++i)
#pragma GCC unroll 8
        for (int c = 0; c < TC; ++c) {
          VT::add_to(a.acc[t0 + c] + (i0 + i) * kDotLanes, acc[i][c]);
          acc[i][c] = VT::zero();
        }
      terms = 0;
    }
    terms += terms_per_plane;
    for (int64_t r = 0; r < rows; ++r) {
#pragma GCC unroll 8
      for (int c = 0; c < TC; ++c) src[c] = srcs[c] + z * src_p + r * src_row;
      const T* dy = a.dy + z * dy_p + i0 * dy_i + r * dy_row;
      for (int64_t j0 = 0; j0 < n; j0 += L) {
        if (j0 >= ja && j0 < jb) {  // every tap valid on the whole vector
          V d[MI];
#pragma GCC unroll 4
          for (int i = 0; i < MI; ++i) d[i] = VT::load(dy + i * dy_i + j0);
#pragma GCC unroll 8
          for (int c = 0; c < TC; ++c) {
            const V x = VT::load(src[c] + j0);
#pragma GCC unroll 4
            for (int i = 0; i < MI; ++i) acc[i][c] = VT::fma(d[i], x, acc[i][c]);
          }
        } else {  // edge vector: each tap masked to its own range
          const M dm = j0 == 0 ? dfirst : (j0 == jl ? dlast : VT::lanes(0, n - j0));
          V d[MI];
#pragma GCC unroll 4
          for (int i = 0; i < MI; ++i) d[i] = VT::load(dy + i * dy_i + j0, dm);
#pragma GCC unroll 8
          for (int c = 0; c < TC; ++c) {
            const M mk = j0 == 0 ? first[c] : (j0 == jl ? last[c] : VT::lanes(los[c] - j0, his[c] - j0));
            if (VT::none(mk)) continue;
            const V x = VT::load(src[c] + j0, mk);
#pragma GCC unroll 4
            for (int i = 0; i < MI; ++i) acc[i][c] = VT::fma(d[i], x, acc[i][c]);
          }
        }
      }
    }
  }
#pragma GCC unroll 4
  for (int i = 0; i < MI; ++i)
#pragma GCC unroll 8
    for (int c = 0; c < TC; ++c) VT::add_to(a.acc[t0 + c] + (i0 + i) * kDotLanes, acc[i][c]);
}

template <class VT, int MI>
void run_mi(const DirectDotsArgs<typename VT::T>& a, int64_t i0) {
  constexpr int TCmax = VT::kAcc / MI < 8 ? VT::kAcc / MI : 8;
  // Split the taps into equal chunks of at most TCmax, so no chunk is left with a
  // single latency-bound accumulator.
  const int64_t chunks = (a.ntaps + TCmax - 1) / TCmax;
  int64_t t0 = 0;
  for (int64_t k = 0; k < chunks; ++k) {
    const int64_t tc = (a.ntaps - t0 + (chunks - k) - 1) / (chunks - k);
    switch (tc) {
      case 1: tile<VT, MI, 1>(a, i0, t0); break;
      case 2: if constexpr (TCmax >= 2) tile<VT, MI, 2>(a, i0, t0); break;
      case 3: if constexpr (TCmax >= 3) tile<VT, MI, 3>(a, i0, t0); break;
      case 4: if constexpr (TCmax >= 4) tile<VT, MI, 4>(a, i0, t0); break;
      case 5: if constexpr (TCmax >= 5) tile<VT, MI, 5>(a, i0, t0); break;
      case 6: if constexpr (TCmax >= 6) tile<VT, MI, 6>(a, i0, t0); break;
      case 7: if constexpr (TCmax >= 7) tile<VT, MI, 7>(a, i0, t0); break;
      default: if constexpr (TCmax >= 8) tile<VT, MI, 8>(a, i0, t0); break;
    }
    t0 += tc;
  }
}

template <class VT>
void run(const DirectDotsArgs<typename VT::T>& a) {
  // Up to MI dy rows share each loaded input vector: 4 with 32 registers (4 x 6
  // taps), 3 with 16. With 32 registers 4 x 6 took 0.68-0.84x the time of 3 x 8 on
  // Zen 5 (MobileNet's stem, VGG's first layer, MobileNet's first 1x1 layer, batch 8):
  // 8 tap pointers per row left too few general registers and were reloaded from the
  // stack on every vector. (6 x 4 spilled vectors: 2.2x.)
  constexpr int MI = VT::kAcc >= 24 ? 4 : 3;
  for (int64_t i0 = 0; i0 < a.m;) {
    const int64_t left = a.m - i0;
    if (left >= MI) { run_mi<VT, MI>(a, i0); i0 += MI; }
    else if (left == 3) { run_mi<VT, 3>(a, i0); i0 += 3; }
    else if (left == 2) { run_mi<VT, 2>(a, i0); i0 += 2; }
    else { run_mi<VT, 1>(a, i0); i0 += 1; }
  }
}

}  // namespace direct_dots_detail

template <class VT>
void direct_dots(const DirectDotsArgs<typename VT::T>& a) {
  if (a.planes <= 0 || a.m <= 0 || a.n <= 0 || a.rows <= 0 || a.ntaps <= 0) return;
  // Rows that fit in a half-width vector (VT::Half) take it, so fewer lanes idle.
  if (a.n <= VT::Half::L) direct_dots_detail::run<typename VT::Half>(a);
  else direct_dots_detail::run<VT>(a);
}
