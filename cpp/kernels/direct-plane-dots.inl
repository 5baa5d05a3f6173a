// The "plane dots" micro-kernel of the direct route (backward-weight of depthwise
// convolutions: every group has one input channel), written once over a
// vector-traits class VT (vec-<isa>.hpp) and instantiated by each ISA's
// f32/f64-direct-plane-dots-<isa>.cpp. Contract: direct-args.hpp. Included *inside*
// an ISA namespace (see direct-rows.inl for why): no #include, no std:: calls.
//
// Register tile: up to 12 taps of one channel, one vector accumulator each, over the
// channel's whole sum (Diba eq. 15: dw[r, s] = x correlated with the dilated dy; the
// dilation is the tap's offset and row stride). For each dy row and vector of j the
// dy vector is loaded once and each tap whose row range holds the row loads its own
// input vector, then one FMA: no loaded vector is shared across channels in a
// depthwise convolution, so the tile is the channel's taps. Columns where every tap
// is valid take plain loads, edge columns masked loads. The accumulators' lanes are
// summed once per channel in a fixed order (VT::sum), written straight to dw.

#include "kernels/direct-plane-flat.inl"

namespace direct_plane_dots_detail {

template <class VT, int TC>
void tile(const DirectPlaneDotsArgs<typename VT::T>& a, int64_t t0) {
  using T = typename VT::T;
  using V = typename VT::V;
  using M = typename VT::M;
  constexpr int L = VT::L;
  const int64_t n = a.n, planes = a.planes, src_row = a.src_row, dy_row = a.dy_row;
  const int64_t* los = a.lo + t0;
  const int64_t* his = a.hi + t0;
  const int64_t* rlos = a.rlo + t0;
  const int64_t* rhis = a.rhi + t0;
  const int64_t* offs = a.off + t0;
  // Vectors j0 in [ja, jb) (multiples of L) are inside every tap's column range.
  int64_t lo_max = 0, hi_min = n;
  for (int c = 0; c < TC; ++c) {
    if (los[c] > lo_max) lo_max = los[c];
    if (his[c] < hi_min) hi_min = his[c];
  }
  const int64_t ja = (lo_max + L - 1) / L * L;
  const int64_t jb = hi_min >= ja + L ? ja + (hi_min - ja) / L * L : ja;
  const int64_t jl = (n - 1) / L * L;  // the last vector
  const M none = VT::lanes(0, 0);
  const M dfirst = VT::lanes(0, n), dlast = VT::lanes(0, n - jl);
  // Runs of rows in which the same taps are live: cut at every tap's row range ends.
  int64_t cuts[2 * TC + 2];
  int ncut = 0;
  for (int c = 0; c < TC; ++c) {
    if (los[c] >= his[c] || rlos[c] >= rhis[c]) continue;  // a tap with nothing to read
    cuts[ncut++] = rlos[c];
    cuts[ncut++] = rhis[c];
  }
  for (int i = 1; i < ncut; ++i)  // insertion sort: at most 2*TC entries
    for (int k = i; k > 0 && cuts[k - 1] > cuts[k]; --k) {
      const int64_t t = cuts[k - 1];
      cuts[k - 1] = cuts[k];
      cuts[k] = t;
    }
  // Per run, per tap: the masks of the first and the last vector, and whether the
  // tap is on (a middle vector is all lanes or none); a tap off in the run gets
  // empty masks (a masked-off lane is never read). Built once per call, used by
  // every channel.
  constexpr int kRuns = 2 * TC + 1;
  int64_t r0s[kRuns], r1s[kRuns];
  M mfirsts[kRuns][TC], mlasts[kRuns][TC];
  bool ons[kRuns][TC];
  int nruns = 0;
  for (int k = 0; k + 1 < ncut; ++k) {
    const int64_t r0 = cuts[k], r1 = cuts[k + 1];
    if (r0 >= r1) continue;
    r0s[nruns] = r0;
    r1s[nruns] = r1;
    for (int c = 0; c < TC; ++c) {
      const bool on = los[c] < his[c] && rlos[c] <= r0 && r1 <= rhis[c];
      ons[nruns][c] = on;
      mfirsts[nruns][c] = on ? VT::lanes(los[c], his[c]) : none;
      mlasts[nruns][c] = on ? VT::lanes(los[c] - jl, his[c] - jl) : none;
    }
    ++nruns;
  }
  for (int64_t ch = 0; ch < a.channels; ++ch) {
    V acc[TC];
#pragma GCC unroll 12
    for (int c = 0; c < TC; ++c) acc[c] = VT::zero();
    for (int k = 0; k < nruns; ++k) {
      const int64_t r0 = r0s[k], r1 = r1s[k];
      const M* mfirst = mfirsts[k];
      const M* mlast = mlasts[k];
      const bool* on = ons[k];
      for (int64_t z = 0; z < planes; ++z) {
        const T* src[TC];
#pragma GCC unroll 12
        for (int c = 0; c < TC; ++c) src[c] = a.src + (ch * a.src_c + z * a.src_p + offs[c]);
        const T* dyz = a.dy + ch * a.dy_c + z * a.dy_p;
        for (int64_t r = r0; r < r1; ++r) {
          const T* dy = dyz + r * dy_row;
          const int64_t so = r * src_row;
          // The first vector (the only one of a short row).
          {
            const V d = VT::load(dy, dfirst);
#pragma GCC unroll 12
            for (int c = 0; c < TC; ++c) acc[c] = VT::fma(d, VT::load(src[c] + so, mfirst[c]), acc[c]);
          }
          for (int64_t j0 = L; j0 < jl; j0 += L) {
            if (j0 >= ja && j0 < jb) {  // every tap valid on the whole vector
              const V d = VT::load(dy + j0);
              // all lanes or none: plain loads (a masked load that misses the
              // caches is 2-3x slower on Zen 5; see direct-plane-rows.inl)
#pragma GCC unroll 12
              for (int c = 0; c < TC; ++c)
                if (on[c]) acc[c] = VT::fma(d, VT::load(src[c] + so + j0), acc[c]);
            } else {  // a tap's range ends inside the row (padding wider than a vector)
              const V d = VT::load(dy + j0);
#pragma GCC unroll 12
              for (int c = 0; c < TC; ++c) {
                const M mk = on[c] ? VT::lanes(los[c] - j0, his[c] - j0) : none;
                acc[c] = VT::fma(d, VT::load(src[c] + so + j0, mk), acc[c]);
              }
            }
          }
          if (jl > 0) {  // the last vector
            const V d = VT::load(dy + jl, dlast);
#pragma GCC unroll 12
            for (int c = 0; c < TC; ++c) acc[c] = VT::fma(d, VT::load(src[c] + so + jl, mlast[c]), acc[c]);
          }
        }
      }
    }
    T* out = a.out + ch * a.out_c + t0;
#pragma GCC unroll 12
    for (int c = 0; c < TC; ++c) {
      const T s = VT::sum(acc[c]);
      out[c] = a.accumulate ? out[c] + s : s;
    }
  }
}

template <class VT>
struct Chunk {
  const DirectPlaneDotsArgs<typename VT::T>& a;
  template <int TC>
  void operator()(int64_t t0, int64_t) const {
    tile<VT, TC>(a, t0);
  }
};

template <class VT>
void run(const DirectPlaneDotsArgs<typename VT::T>& a) {
  // Equal chunks of at most 12 taps (direct-plane-flat.inl: chunks; a 3x3 kernel is
  // one chunk on every ISA).
  equal_chunks<(VT::kAcc < 12 ? VT::kAcc : 12)>(a.ntaps, Chunk<VT>{a});
}

}  // namespace direct_plane_dots_detail

template <class VT>
void direct_plane_dots(const DirectPlaneDotsArgs<typename VT::T>& a) {
  if (a.channels <= 0 || a.ntaps <= 0) return;
  if (a.planes <= 0 || a.n <= 0) {  // empty sums
    for (int64_t c = 0; c < a.channels; ++c)
      for (int64_t t = 0; t < a.ntaps; ++t)
        if (!a.accumulate) a.out[c * a.out_c + t] = typename VT::T(0);
    return;
  }
  if (direct_plane_dots_flat<VT>(a)) return;  // contiguous small planes: direct-plane-flat.inl
  // Rows that fit in a half-width vector (VT::Half) take it, so fewer lanes idle.
  if (a.n <= VT::Half::L) direct_plane_dots_detail::run<typename VT::Half>(a);
  else direct_plane_dots_detail::run<VT>(a);
}
