// The "plane rows" micro-kernel of the direct route (forward and backward-input of
// depthwise convolutions: one input plane per output plane), written once over a
// vector-traits class VT (vec-<isa>.hpp) and instantiated by each ISA's
// f32/f64-direct-plane-rows-<isa>.cpp. Contract: direct-args.hpp. Included *inside*
// an ISA namespace (see direct-rows.inl for why): no #include, no std:: calls.
//
// Register tile: the weights of up to 12 taps of one channel, broadcast once per
// channel and kept in registers, and MI output rows of one vector each (Zhang,
// Franchetti, Low, ICML 2018: outputs in registers while the taps stream through;
// here the taps are compile-time unrolled, so no tap costs scalar work per tile).
// The rows split into runs where the same taps are live (padding at the top and
// bottom); each run's column masks are built once per call, so the row loop only
// loads, multiplies and adds (a tap off in the run has an empty mask: no lane read;
// on vectors where every tap is valid it is skipped). Those vectors load without a
// mask: on Zen 5 a masked load that misses the caches costs 2-3x a plain one
// (14-float rows of a 3.2 MB array from DRAM: 250 vs 91 us), and mobilenet.dw1
// (112x112 planes, 25 MB read and written a call) went from 1.69 / 1.73 ms to
// 1.12 / 1.11 (fwd / bwd_data, 1 thread, old / new .so in alternating processes).

#include "kernels/direct-plane-flat.inl"

namespace direct_plane_rows_detail {

template <class VT, int TC>
struct Runs {
  using M = typename VT::M;
  static constexpr int kRuns = 2 * TC + 1;
  int64_t r0[kRuns], r1[kRuns];
  M first[kRuns][TC], last[kRuns][TC];
  bool on[kRuns][TC];
  int count = 0;
};

template <class VT, int TC, int MI>
inline void rows_block(const DirectPlaneRowsArgs<typename VT::T>& a, const Runs<VT, TC>& R, int k,
                       const typename VT::V* wv, typename VT::T bias, const typename VT::T* src,
                       typename VT::T* out, int64_t i, int64_t t0, bool init, int64_t ja, int64_t jb, int64_t jl) {
  using T = typename VT::T;
  using V = typename VT::V;
  using M = typename VT::M;
  constexpr int L = VT::L;
  const int64_t n = a.n, src_row = a.src_row, out_row = a.out_row;
  const int64_t* offs = a.off + t0;
  const int64_t* los = a.lo + t0;
  const int64_t* his = a.hi + t0;
  const M none = VT::lanes(0, 0);
  for (int64_t j0 = 0; j0 < n; j0 += L) {
    const bool first = j0 == 0, last = j0 == jl, inner = j0 >= ja && j0 < jb;
    const M om = VT::lanes(0, n - j0);
    V acc[MI];
#pragma GCC unroll 8
    for (int mi = 0; mi < MI; ++mi) {
      T* o = out + (i + mi) * out_row + j0;
      acc[mi] = init ? VT::set1(bias) : (j0 + L <= n ? VT::load(o) : VT::load(o, om));
    }
#pragma GCC unroll 12
    for (int c = 0; c < TC; ++c) {
      const T* s = src + offs[c] + i * src_row + j0;
      if (inner) {  // every tap valid on the whole vector: all lanes (plain loads), or none if off in the run
        if (R.on[k][c]) {
#pragma GCC unroll 8
          for (int mi = 0; mi < MI; ++mi) acc[mi] = VT::fma(wv[c], VT::load(s + mi * src_row), acc[mi]);
        }
        continue;
      }
      const M mk = first ? R.first[k][c]
                         : (last ? R.last[k][c] : (R.on[k][c] ? VT::lanes(los[c] - j0, his[c] - j0) : none));
#pragma GCC unroll 8
      for (int mi = 0; mi < MI; ++mi) acc[mi] = VT::fma(wv[c], VT::load(s + mi * src_row, mk), acc[mi]);
    }
#pragma GCC unroll 8
    for (int mi = 0; mi < MI; ++mi) {
      T* o = out + (i + mi) * out_row + j0;
      if (j0 + L <= n) VT::store(o, acc[mi]);
      else VT::store(o, acc[mi], om);
    }
  }
}

template <class VT, int TC>
void tile(const DirectPlaneRowsArgs<typename VT::T>& a, int64_t t0, bool init) {
  using T = typename VT::T;
  using V = typename VT::V;
  using M = typename VT::M;
  constexpr int L = VT::L;
  constexpr int MImax = VT::kAcc >= 24 ? 4 : 2;
  const int64_t n = a.n;
  const int64_t* los = a.lo + t0;
  const int64_t* his = a.hi + t0;
  const int64_t* rlos = a.rlo + t0;
  const int64_t* rhis = a.rhi + t0;
  int64_t lo_max = 0, hi_min = n;
  for (int c = 0; c < TC; ++c) {
    if (los[c] > lo_max) lo_max = los[c];
    if (his[c] < hi_min) hi_min = his[c];
  }
  const int64_t ja = (lo_max + L - 1) / L * L;
  const int64_t jb = hi_min >= ja + L ? ja + (hi_min - ja) / L * L : ja;
  const int64_t jl = (n - 1) / L * L;
  const M none = VT::lanes(0, 0);
  // Row runs: every row of [0, m) is in one run (rows no tap reaches get the bias).
  int64_t cuts[2 * TC + 2];
  int ncut = 0;
  cuts[ncut++] = 0;
  cuts[ncut++] = a.m;
  for (int c = 0; c < TC; ++c) {
    if (rlos[c] > 0 && rlos[c] < a.m) cuts[ncut++] = rlos[c];
    if (rhis[c] > 0 && rhis[c] < a.m) cuts[ncut++] = rhis[c];
  }
  direct_plane_flat_detail::sort_small(cuts, ncut);
  Runs<VT, TC> R;
  for (int k = 0; k + 1 < ncut; ++k) {
    const int64_t r0 = cuts[k], r1 = cuts[k + 1];
    if (r0 >= r1) continue;
    const int q = R.count++;
    R.r0[q] = r0;
    R.r1[q] = r1;
    for (int c = 0; c < TC; ++c) {
      const bool on = los[c] < his[c] && rlos[c] <= r0 && r1 <= rhis[c];
      R.on[q][c] = on;
      R.first[q][c] = on ? VT::lanes(los[c], his[c]) : none;
      R.last[q][c] = on ? VT::lanes(los[c] - jl, his[c] - jl) : none;
    }
  }
  for (int64_t ch = 0; ch < a.channels; ++ch) {
    V wv[TC];
    const T* w = a.w + ch * a.w_c;
#pragma GCC unroll 12
    for (int c = 0; c < TC; ++c) wv[c] = VT::set1(w[a.widx[t0 + c]]);
    const T bias = a.bias ? a.bias[ch * a.bias_c] : T(0);
    const T* src = a.src + ch * a.src_c;
    T* out = a.out + ch * a.out_c;
    for (int k = 0; k < R.count; ++k) {
      int64_t i = R.r0[k];
      const int64_t r1 = R.r1[k];
      for (; i + MImax <= r1; i += MImax) rows_block<VT, TC, MImax>(a, R, k, wv, bias, src, out, i, t0, init, ja, jb, jl);
      for (; i < r1; ++i) rows_block<VT, TC, 1>(a, R, k, wv, bias, src, out, i, t0, init, ja, jb, jl);
    }
  }
}

template <class VT>
struct Chunk {
  const DirectPlaneRowsArgs<typename VT::T>& a;
  template <int TC>
  void operator()(int64_t t0, int64_t k) const {
    tile<VT, TC>(a, t0, k == 0);  // the first chunk starts from the bias, the others add
  }
};

template <class VT>
void run(const DirectPlaneRowsArgs<typename VT::T>& a) {
  // Equal chunks of at most 12 taps (direct-plane-flat.inl: chunks); the first
  // starts from the bias, the others add to what the earlier ones wrote.
  equal_chunks<(VT::kAcc < 12 ? VT::kAcc : 12)>(a.ntaps, Chunk<VT>{a});
}

}  // namespace direct_plane_rows_detail

template <class VT>
void direct_plane_rows(const DirectPlaneRowsArgs<typename VT::T>& a) {
  using T = typename VT::T;
  if (a.channels <= 0 || a.m <= 0 || a.n <= 0) return;
  if (a.ntaps <= 0) {  // no tap: every output is its bias
    for (int64_t c = 0; c < a.channels; ++c)
      for (int64_t i = 0; i < a.m; ++i)
        for (int64_t j = 0; j < a.n; ++j) a.out[c * a.out_c + i * a.out_row + j] = a.bias ? a.bias[c * a.bias_c] : T(0);
    return;
  }
  if (direct_plane_rows_flat<VT>(a)) return;  // contiguous small planes: direct-plane-flat.inl
  if (a.n <= VT::Half::L) direct_plane_rows_detail::run<typename VT::Half>(a);
  else direct_plane_rows_detail::run<VT>(a);
}
