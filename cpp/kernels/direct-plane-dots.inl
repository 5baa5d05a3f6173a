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

// Tap runs (AVX-512; why: direct-plane-flat.inl, "Tap runs"): where the TC taps are
// runs of 3 (a kernel row's taps read 3 consecutive pixels; rot180 runs go down)
// with the same columns in every run, each x row is loaded once per vector and
// shifted twice, against three loads. A run's taps share their rows, so a run is on
// or off for a whole row run. Returns false (nothing done) where the taps are not
// such runs or a row has more than kMaxVectors vectors.
constexpr int kMaxVectors = 64;

template <class VT, int TC>
bool run_tile(const DirectPlaneDotsArgs<typename VT::T>& a, int64_t t0) {
  using T = typename VT::T;
  using V = typename VT::V;
  using M = typename VT::M;
  constexpr int L = VT::L, R = direct_plane_flat_detail::kRun, NR = TC / R;
  const int64_t n = a.n, nv = (n + L - 1) / L;
  const int64_t *offs = a.off + t0, *los = a.lo + t0, *his = a.hi + t0, *rlos = a.rlo + t0, *rhis = a.rhi + t0;
  int perm[R];  // shift s of a run is its tap perm[s]
  if (nv > kMaxVectors || !direct_plane_flat_detail::tap_runs<TC>(offs, los, his, rlos, rhis, true, perm)) return false;
  // Shift s at output column j reads the run's row at j + s: the loads cover the hull
  // [umin, umax) of what the shifts read (pixels of one x row), masked outside it.
  int64_t umin = 0, umax = 0;
  bool any = false;
  for (int s = 0; s < R; ++s) {
    const int64_t lo = los[perm[s]], hi = his[perm[s]];
    if (lo >= hi) continue;
    umin = any && umin < lo + s ? umin : lo + s;
    umax = any && umax > hi + s ? umax : hi + s;
    any = true;
  }
  if (!any) return false;
  // Per vector v: the shifts' column masks, whether they are all full (plain FMAs),
  // the dy mask and the load mask.
  M cm[kMaxVectors][R], dm[kMaxVectors], lm[kMaxVectors + 1];
  bool full[kMaxVectors];
  const M all = VT::lanes(0, L);
  for (int64_t v = 0; v <= nv; ++v) lm[v] = VT::lanes(umin - v * L, umax - v * L);
  for (int64_t v = 0; v < nv; ++v) {
    dm[v] = VT::lanes(0, n - v * L);
    full[v] = true;
    for (int s = 0; s < R; ++s) {
      cm[v][s] = VT::lanes(los[perm[s]] - v * L, his[perm[s]] - v * L);
      full[v] = full[v] && cm[v][s] == all;
    }
  }
  // Row runs in which the same runs are on.
  int64_t cuts[2 * NR + 2];
  int ncut = 0;
  for (int q = 0; q < NR; ++q) {
    if (rlos[q * R] >= rhis[q * R]) continue;
    cuts[ncut++] = rlos[q * R];
    cuts[ncut++] = rhis[q * R];
  }
  direct_plane_flat_detail::sort_small(cuts, ncut);
  if (ncut == 0) return false;
  int64_t d[NR];
  for (int q = 0; q < NR; ++q) d[q] = offs[q * R + perm[0]];
  const int64_t src_row = a.src_row, dy_row = a.dy_row;
  // A load takes all lanes (a plain load: on this Zen 5 a masked load that misses the
  // caches is slower) when they lie between the first and the last element the
  // plane's taps read, [xg0, xg1) of x and [dg0, dg1) of dy; lanes outside a tap's
  // columns are then dropped by the FMA's mask, or are not used by the shifts.
  int64_t xg0 = 0, xg1 = 0;
  bool anyx = false;
  for (int q = 0; q < NR; ++q) {
    const int64_t rlo = rlos[q * R] > cuts[0] ? rlos[q * R] : cuts[0];
    const int64_t rhi = rhis[q * R] < cuts[ncut - 1] ? rhis[q * R] : cuts[ncut - 1];
    if (rlo >= rhi) continue;
    const int64_t g0 = d[q] + rlo * src_row + umin, g1 = d[q] + (rhi - 1) * src_row + umax;
    xg0 = anyx && xg0 < g0 ? xg0 : g0;
    xg1 = anyx && xg1 > g1 ? xg1 : g1;
    anyx = true;
  }
  if (!anyx) return false;
  const int64_t dg0 = cuts[0] * dy_row, dg1 = (cuts[ncut - 1] - 1) * dy_row + n;
  for (int64_t ch = 0; ch < a.channels; ++ch) {
    V acc[TC];  // in shift order: acc[q * R + s] is tap q * R + perm[s]
#pragma GCC unroll 12
    for (int c = 0; c < TC; ++c) acc[c] = VT::zero();
    for (int k = 0; k + 1 < ncut; ++k) {
      const int64_t r0 = cuts[k], r1 = cuts[k + 1];
      if (r0 >= r1) continue;
      unsigned on = 0;
      for (int q = 0; q < NR; ++q)
        if (rlos[q * R] <= r0 && r1 <= rhis[q * R]) on |= 1u << q;
      for (int64_t z = 0; z < a.planes; ++z) {
        const T* xz = a.src + ch * a.src_c + z * a.src_p;
        const T* dz = a.dy + ch * a.dy_c + z * a.dy_p;
        // The next plane (image, or the next channel's first) row by row as this one
        // goes: a plane of a small layer is a short stream, too short for the
        // hardware prefetcher (mobilenet.dw3, 56x56 planes: 0.99 ms a call with it, 1.9
        // without, 1 thread).
        const bool last = z + 1 == a.planes;
        const char* px = last ? (ch + 1 < a.channels ? reinterpret_cast<const char*>(a.src + (ch + 1) * a.src_c) : nullptr)
                              : reinterpret_cast<const char*>(xz + a.src_p);
        const char* pdy = last ? (ch + 1 < a.channels ? reinterpret_cast<const char*>(a.dy + (ch + 1) * a.dy_c) : nullptr)
                               : reinterpret_cast<const char*>(dz + a.dy_p);
        for (int64_t r = r0; r < r1; ++r) {
          if (px) {
            const char* x1 = px + (d[NR - 1] + r * src_row + umin) * int64_t(sizeof(T));
            const char* d1 = pdy + r * dy_row * int64_t(sizeof(T));
            for (int64_t b = 0; b < (umax - umin) * int64_t(sizeof(T)) + 64; b += 64) __builtin_prefetch(x1 + b);
            for (int64_t b = 0; b < n * int64_t(sizeof(T)) + 64; b += 64) __builtin_prefetch(d1 + b);
          }
          V u[NR];
#pragma GCC unroll 4
          for (int q = 0; q < NR; ++q) {
            const int64_t p = d[q] + r * src_row;
            u[q] = VT::keep(p >= xg0 && p + L <= xg1 ? VT::load(xz + p) : VT::load(xz + p, on >> q & 1u ? lm[0] : VT::lanes(0, 0)));
          }
          for (int64_t v = 0; v < nv; ++v) {
            const int64_t j0 = v * L, pd = r * dy_row + j0;
            const V g = pd >= dg0 && pd + L <= dg1 ? VT::load(dz + pd) : VT::load(dz + pd, dm[v]);
            // The two branches differ only in the FMAs' masks: one loop with the test
            // inside (or a lambda over both) measured up to 1.1x slower on dw1, dw3.
            if (full[v]) {
#pragma GCC unroll 4
              for (int q = 0; q < NR; ++q) {
                if (!(on >> q & 1u)) continue;
                const int64_t p = d[q] + r * src_row + j0 + L;
                const V nx = VT::keep(p >= xg0 && p + L <= xg1 ? VT::load(xz + p) : VT::load(xz + p, lm[v + 1]));
                acc[q * R] = VT::fma(g, u[q], acc[q * R]);
                acc[q * R + 1] = VT::fma(g, VT::template shift_in<1>(u[q], nx), acc[q * R + 1]);
                acc[q * R + 2] = VT::fma(g, VT::template shift_in<2>(u[q], nx), acc[q * R + 2]);
                u[q] = nx;
              }
            } else {
#pragma GCC unroll 4
              for (int q = 0; q < NR; ++q) {
                if (!(on >> q & 1u)) continue;
                const int64_t p = d[q] + r * src_row + j0 + L;
                const V nx = VT::keep(p >= xg0 && p + L <= xg1 ? VT::load(xz + p) : VT::load(xz + p, lm[v + 1]));
                acc[q * R] = VT::fma(g, u[q], acc[q * R], cm[v][0]);
                acc[q * R + 1] = VT::fma(g, VT::template shift_in<1>(u[q], nx), acc[q * R + 1], cm[v][1]);
                acc[q * R + 2] = VT::fma(g, VT::template shift_in<2>(u[q], nx), acc[q * R + 2], cm[v][2]);
                u[q] = nx;
              }
            }
          }
        }
      }
    }
    T* out = a.out + ch * a.out_c + t0;
#pragma GCC unroll 4
    for (int q = 0; q < NR; ++q)
#pragma GCC unroll 3
      for (int s = 0; s < R; ++s) {
        const T v = VT::sum(acc[q * R + s]);
        T& o = out[q * R + perm[s]];
        o = a.accumulate ? o + v : v;
      }
  }
  return true;
}

template <class VT, int TC>
void tile(const DirectPlaneDotsArgs<typename VT::T>& a, int64_t t0) {
  if constexpr (direct_plane_flat_detail::has_shift_in<VT>(0) && TC % direct_plane_flat_detail::kRun == 0) {
    if (run_tile<VT, TC>(a, t0)) return;
  }
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
  direct_plane_flat_detail::sort_small(cuts, ncut);  // at most 2*TC entries
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
