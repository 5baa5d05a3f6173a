// The direct route (issue "Fast path 2"): the three passes computed straight from
// NCHW, no im2col buffer. Every pass is reduced, row by row, to a list of taps (an
// input row, a weight, a valid column range) handed to one of two micro-kernels
// (kernels/direct-args.hpp); strides, dilations, paddings and groups are all index
// arithmetic in drivers/direct-geometry.*. Two register blockings:
//   - "rows" mode, when an output row has a single input channel group member to
//     block over (depthwise with multiplier 1: Kg == 1 forward, Cg == 1 backward):
//     the tile is several output rows of one channel sharing each weight;
//   - "channels" mode otherwise: the tile is several output channels sharing each
//     loaded input vector (Zhang, Franchetti, Low, ICML 2018; Georganas et al., SC18).
// Forward and backward-input write every output element from exactly one task and
// sum in a fixed order; backward-weight gives each task its own block of dw (a
// partition of the weight), summing over the batch in order: results are
// bit-identical for any thread count.
#include "drivers/conv-direct.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "dispatch/routes.hpp"
#include "drivers/direct-geometry.hpp"
#include "drivers/parallel.hpp"

namespace convbp::direct {

namespace {

// The tap lists of one kernel call (reused across calls of a task).
template <typename T>
struct Taps {
  std::vector<const T*> src, w;
  std::vector<int64_t> lo, hi;
  std::vector<double*> acc;
  void clear() {
    src.clear();
    w.clear();
    lo.clear();
    hi.clear();
    acc.clear();
  }
  void add(const T* s, int64_t l, int64_t h) {
    src.push_back(s);
    lo.push_back(l);
    hi.push_back(h);
  }
  int64_t size() const { return int64_t(src.size()); }
};

// Channels per task in channels mode: at most `cap` (a multiple of the kernels'
// 6-row tiles), smaller while there are too few tasks to keep every thread busy.
int64_t block_size(int64_t per_group, int64_t outer_tasks, int64_t cap) {
  int64_t b = std::min(per_group, cap);
  const int64_t want = 4 * int64_t(num_threads());
  while (b > 6 && outer_tasks * ((per_group + b - 1) / b) < want) b -= 6;
  return b;
}

template <typename T>
DirectRowsArgs<T> rows_args(const Taps<T>& t, int64_t m, int64_t n) {
  DirectRowsArgs<T> a;
  a.m = m;
  a.n = n;
  a.ntaps = t.size();
  a.src = t.src.data();
  a.lo = t.lo.data();
  a.hi = t.hi.data();
  a.w = t.w.data();
  return a;
}

}  // namespace

// y[n,k,p,q] = b[k] + sum_{c,r,s} w[k,c,r,s] x[n,c, p*sh + r*dh - top, q*sw + s*dw - left]
// (DESIGN.md; Diba eq. 6 with stride, dilation, groups).
template <typename T>
void forward(const KernelTable& kt, const ConvParams& p, const T* x, const T* w, const T* bias, T* y) {
  const auto rows = kt.direct<T>().rows;
  const int64_t P = p.P(), Q = p.Q(), Cg = p.Cg(), Kg = p.Kg(), RS = p.R * p.S;
  const SplitInput<T> in = split_input(p, x);
  const std::vector<ColTap> cols = forward_col_taps(p, in.phase);
  const std::vector<RowRun> runs = forward_row_runs(p);
  static const T zero = T(0);
  // The taps of output row `row0` of channel k (weights of k) from input channels of group g.
  auto add_taps = [&](Taps<T>& taps, int64_t n, int64_t g, int64_t k, const RowRun& run, int64_t row0) {
    for (int64_t c = 0; c < Cg; ++c) {
      const T* xc = in.base + (n * p.C + g * Cg + c) * in.plane;
      const T* wc = w + (k * Cg + c) * RS;
      for (int64_t r : run.rs) {
        const T* xr = xc + (row0 * p.stride_h + r * p.dil_h - p.pad_top) * in.pitch;
        for (int64_t s = 0; s < p.S; ++s) {
          const ColTap& ct = cols[size_t(s)];
          if (ct.lo >= ct.hi) continue;
          taps.add(xr + ct.offset, ct.lo, ct.hi);
          taps.w.push_back(wc + r * p.S + s);
        }
      }
    }
  };
  if (Kg == 1) {
    // Rows mode: one task per output plane; a run of rows with the same valid
    // kernel rows is one kernel call whose rows share each weight.
    parallel_for(p.N * p.K, [&](int64_t nk) {
      const int64_t n = nk / p.K, k = nk % p.K;
      Taps<T> taps;
      for (const RowRun& run : runs) {
        taps.clear();
        add_taps(taps, n, k, k, run, run.a);
        DirectRowsArgs<T> a = rows_args(taps, run.b - run.a, Q);
        a.src_i = p.stride_h * in.pitch;
        a.out = y + (nk * P + run.a) * Q;
        a.out_i = Q;
        a.bias = bias ? bias + k : &zero;
        rows(a);
      }
    });
    return;
  }
  // Channels mode: one task per (image, group, block of output channels), one call per row.
  const int64_t KB = block_size(Kg, p.N * p.groups, 24), kblocks = (Kg + KB - 1) / KB;
  parallel_for(p.N * p.groups * kblocks, [&](int64_t task) {
    const int64_t n = task / (p.groups * kblocks), g = task / kblocks % p.groups, kb = task % kblocks;
    const int64_t k0 = g * Kg + kb * KB, m = std::min(KB, Kg - kb * KB);
    Taps<T> taps;
    for (const RowRun& run : runs)
      for (int64_t row = run.a; row < run.b; ++row) {
        taps.clear();
        add_taps(taps, n, g, k0, run, row);
        DirectRowsArgs<T> a = rows_args(taps, m, Q);
        a.w_i = Cg * RS;
        a.out = y + ((n * p.K + k0) * P + row) * Q;
        a.out_i = P * Q;
        a.bias = bias ? bias + k0 : &zero;
        a.bias_i = bias ? 1 : 0;
        rows(a);
      }
  });
}

// dx[n,c,h,v] = sum_{k,r,s} w[k,c,r,s] dyd[n,k, h + top - r*dh, v + left - s*dw], with dyd
// the stride-dilated dy: the seeds' full correlation of the dilated dy with rot180(w)
// (Diba eqs. 24-29, Ji & Xie eq. 17) after the substitution r' = R-1-r. Outputs are
// split by phase (h mod sh, v mod sw); in a phase only the taps landing on real dy
// entries exist (direct-geometry.hpp: phase_taps), so no inserted zero is read or
// multiplied, and each dx element is written once (gather, no scatter-add).
template <typename T>
void backward_input(const KernelTable& kt, const ConvParams& p, const T* dy, const T* w, T* dx) {
  const auto rows = kt.direct<T>().rows;
  const int64_t P = p.P(), Q = p.Q(), Cg = p.Cg(), Kg = p.Kg(), RS = p.R * p.S;
  const int64_t sh = p.stride_h, sw = p.stride_w, H = p.H, W = p.W;
  struct RowPhase {
    int64_t phase, count;
    std::vector<PhaseTap> taps;
    std::vector<RowRun> runs;
  };
  struct ColPhase {
    int64_t phase, count;
    std::vector<PhaseTap> taps;
  };
  std::vector<RowPhase> rph;
  for (int64_t f = 0; f < sh && f < H; ++f) {
    RowPhase rp{f, phase_count(H, sh, f), phase_taps(f, sh, p.dil_h, p.pad_top, p.R, H, P), {}};
    std::vector<int64_t> lo, hi;
    for (const PhaseTap& t : rp.taps) {
      lo.push_back(t.lo);
      hi.push_back(t.hi);
    }
    rp.runs = row_runs(lo, hi, rp.count);
    rph.push_back(std::move(rp));
  }
  std::vector<ColPhase> cph;
  for (int64_t f = 0; f < sw && f < W; ++f)
    cph.push_back(ColPhase{f, phase_count(W, sw, f), phase_taps(f, sw, p.dil_w, p.pad_left, p.S, W, Q)});
  static const T zero = T(0);
  // The taps of dx row i of a row phase (weights of channel c0) from the dy of image n, group g.
  auto add_taps = [&](Taps<T>& taps, int64_t n, int64_t g, int64_t c0, const RowPhase& rp, const RowRun& run,
                      int64_t i, const ColPhase& cp) {
    for (int64_t kk = 0; kk < Kg; ++kk) {
      const int64_t k = g * Kg + kk;
      const T* dyk = dy + (n * p.K + k) * P * Q;
      const T* wk = w + (k * Cg + c0) * RS;
      for (int64_t r : run.rs) {
        const T* dyr = dyk + (rp.taps[size_t(r)].base + i) * Q;
        for (int64_t s = 0; s < p.S; ++s) {
          const PhaseTap& ct = cp.taps[size_t(s)];
          if (ct.lo >= ct.hi) continue;
          taps.add(dyr + ct.base, ct.lo, ct.hi);
          taps.w.push_back(wk + r * p.S + s);
        }
      }
    }
  };
  // Column phase f of rows dx0 + i*row_step (i < m), computed as an m x count block at
  // `out` with row stride out_i: written in place when sw == 1, else through `tmp`.
  auto emit = [&](DirectRowsArgs<T>& a, std::vector<T>& tmp, T* dx0, int64_t row_step, int64_t col_phase) {
    if (sw == 1) {
      a.out = dx0;
      a.out_i = row_step;
      rows(a);
      return;
    }
    tmp.resize(size_t(a.m * a.n));
    a.out = tmp.data();
    a.out_i = a.n;
    rows(a);
    for (int64_t i = 0; i < a.m; ++i) {
      T* d = dx0 + i * row_step + col_phase;
      const T* t = tmp.data() + i * a.n;
      for (int64_t j = 0; j < a.n; ++j) d[j * sw] = t[j];
    }
  };
  if (Cg == 1) {
    // Rows mode: one task per dx plane; a run of same-phase rows with the same taps
    // is one call whose rows (dx rows phase + sh*i, dy rows base + i) share weights.
    parallel_for(p.N * p.C, [&](int64_t nc) {
      const int64_t n = nc / p.C, c = nc % p.C;
      Taps<T> taps;
      std::vector<T> tmp;
      for (const RowPhase& rp : rph)
        for (const RowRun& run : rp.runs)
          for (const ColPhase& cp : cph) {
            taps.clear();
            add_taps(taps, n, c, 0, rp, run, run.a, cp);
            DirectRowsArgs<T> a = rows_args(taps, run.b - run.a, cp.count);
            a.src_i = Q;
            a.bias = &zero;
            emit(a, tmp, dx + (nc * H + rp.phase + sh * run.a) * W, sh * W, cp.phase);
          }
    });
    return;
  }
  // Channels mode: one task per (image, group, block of input channels), one call per dx row.
  const int64_t CB = block_size(Cg, p.N * p.groups, 24), cblocks = (Cg + CB - 1) / CB;
  parallel_for(p.N * p.groups * cblocks, [&](int64_t task) {
    const int64_t n = task / (p.groups * cblocks), g = task / cblocks % p.groups, cb = task % cblocks;
    const int64_t c0 = cb * CB, m = std::min(CB, Cg - c0);
    Taps<T> taps;
    std::vector<T> tmp;
    for (const RowPhase& rp : rph)
      for (const RowRun& run : rp.runs)
        for (int64_t i = run.a; i < run.b; ++i)
          for (const ColPhase& cp : cph) {
            taps.clear();
            add_taps(taps, n, g, c0, rp, run, i, cp);
            DirectRowsArgs<T> a = rows_args(taps, m, cp.count);
            a.w_i = RS;
            a.bias = &zero;
            emit(a, tmp, dx + ((n * p.C + g * Cg + c0) * H + rp.phase + sh * i) * W, H * W, cp.phase);
          }
  });
}

// dw[k,c,r,s] = sum_{n,p,q} dy[n,k,p,q] x[n,c, p*sh + r*dh - top, q*sw + s*dw - left]
// (Diba eq. 15: x correlated with the stride-dilated dy; the dilation is the tap's
// row and column stride). Each task owns a (block of k) x (block of c) part of dw and
// sums over the batch in order, so no two threads touch the same dw element.
template <typename T>
void backward_weight(const KernelTable& kt, const ConvParams& p, const T* x, const T* dy, T* dw) {
  const auto dots = kt.direct<T>().dots;
  const int64_t P = p.P(), Q = p.Q(), Cg = p.Cg(), Kg = p.Kg(), RS = p.R * p.S;
  const SplitInput<T> in = split_input(p, x);
  const std::vector<ColTap> cols = forward_col_taps(p, in.phase);
  const std::vector<RowRun> runs = forward_row_runs(p);
  // float32 partials live in registers for one call: bound its terms per lane.
  const int64_t max_rows = std::max<int64_t>(1, (int64_t(1) << 16) / Q);
  const int64_t KB = std::min<int64_t>(Kg, 12), kblocks = (Kg + KB - 1) / KB;
  int64_t CB = std::min<int64_t>(Cg, 16);
  while (CB > 1 && p.groups * kblocks * ((Cg + CB - 1) / CB) < 4 * int64_t(num_threads())) CB = (CB + 1) / 2;
  const int64_t cblocks = (Cg + CB - 1) / CB;
  parallel_for(p.groups * kblocks * cblocks, [&](int64_t task) {
    const int64_t g = task / (kblocks * cblocks), kb = task / cblocks % kblocks, cb = task % cblocks;
    const int64_t k0 = g * Kg + kb * KB, m = std::min(KB, Kg - kb * KB);
    const int64_t c0 = cb * CB, cn = std::min(CB, Cg - c0);
    std::vector<double> acc(size_t(cn * RS * m * kDotLanes), 0.0);
    Taps<T> taps;
    for (int64_t n = 0; n < p.N; ++n)
      for (const RowRun& run : runs)
        for (int64_t a0 = run.a; a0 < run.b; a0 += max_rows) {
          const int64_t a1 = std::min(run.b, a0 + max_rows);
          taps.clear();
          for (int64_t cl = 0; cl < cn; ++cl) {
            const T* xc = in.base + (n * p.C + g * Cg + c0 + cl) * in.plane;
            for (int64_t r : run.rs) {
              const T* xr = xc + (a0 * p.stride_h + r * p.dil_h - p.pad_top) * in.pitch;
              for (int64_t s = 0; s < p.S; ++s) {
                const ColTap& ct = cols[size_t(s)];
                if (ct.lo >= ct.hi) continue;
                taps.add(xr + ct.offset, ct.lo, ct.hi);
                taps.acc.push_back(acc.data() + ((cl * RS + r * p.S + s) * m) * kDotLanes);
              }
            }
          }
          DirectDotsArgs<T> a;
          a.rows = a1 - a0;
          a.m = m;
          a.n = Q;
          a.ntaps = taps.size();
          a.src = taps.src.data();
          a.src_row = p.stride_h * in.pitch;
          a.lo = taps.lo.data();
          a.hi = taps.hi.data();
          a.dy = dy + ((n * p.K + k0) * P + a0) * Q;
          a.dy_i = P * Q;
          a.dy_row = Q;
          a.acc = taps.acc.data();
          dots(a);
        }
    // Lane sums in fixed order: deterministic.
    for (int64_t i = 0; i < m; ++i)
      for (int64_t cl = 0; cl < cn; ++cl)
        for (int64_t rs = 0; rs < RS; ++rs) {
          const double* l = acc.data() + ((cl * RS + rs) * m + i) * kDotLanes;
          double s = 0.0;
          for (int k = 0; k < kDotLanes; ++k) s += l[k];
          dw[((k0 + i) * Cg + c0 + cl) * RS + rs] = static_cast<T>(s);
        }
  });
}

#define CONVBP_INSTANTIATE(T)                                                                        \
  template void forward<T>(const KernelTable&, const ConvParams&, const T*, const T*, const T*, T*); \
  template void backward_input<T>(const KernelTable&, const ConvParams&, const T*, const T*, T*);    \
  template void backward_weight<T>(const KernelTable&, const ConvParams&, const T*, const T*, T*);
CONVBP_INSTANTIATE(float)
CONVBP_INSTANTIATE(double)
#undef CONVBP_INSTANTIATE

namespace {

template <typename T>
void route_forward(const ConvParams& p, const T* x, const T* w, const T* bias, T* y) {
  forward<T>(kernel_table(), p, x, w, bias, y);
}
template <typename T>
void route_backward_input(const ConvParams& p, const T* dy, const T* w, T* dx) {
  backward_input<T>(kernel_table(), p, dy, w, dx);
}
template <typename T>
void route_backward_weight(const ConvParams& p, const T* x, const T* dy, T* dw) {
  backward_weight<T>(kernel_table(), p, x, dy, dw);
}

// Every ConvParams that validates runs here (all strides, dilations, paddings, groups).
std::string refuses(const ConvParams&, Pass, DType) { return ""; }

// The auto rule, until a measured cost model replaces it: the direct route is
// chosen for grouped convolutions with few input channels per group (depthwise:
// C/groups == 1), where an im2col GEMM degenerates into many tiny products and
// copies every input R*S times; dense convolutions are left to the routes after it.
constexpr int64_t kAutoMaxCg = 16;
std::string auto_declines(const ConvParams& p, Pass, DType) {
  if (p.groups > 1 && p.Cg() <= kAutoMaxCg) return "";
  return "auto uses direct only for grouped convolutions with C/groups <= " + std::to_string(kAutoMaxCg) +
         " (here groups=" + std::to_string(p.groups) + ", C/groups=" + std::to_string(p.Cg()) + ")";
}

}  // namespace

}  // namespace convbp::direct

namespace convbp {

Route make_direct_route() {
  Route r{"direct",
          direct::refuses,
          {direct::route_forward<float>, direct::route_backward_input<float>, direct::route_backward_weight<float>},
          {direct::route_forward<double>, direct::route_backward_input<double>,
           direct::route_backward_weight<double>}};
  r.auto_declines = direct::auto_declines;
  return r;
}

}  // namespace convbp
