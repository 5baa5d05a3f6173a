// Forward and backward-input of the direct route for depthwise convolutions with
// channel multiplier 1 (groups == C == K): each output plane reads one input plane
// with its own R*S weights, so the general rows kernel (taps streamed through a tile
// of outputs, scalar work per tap per tile) is replaced by the plane-rows kernel,
// which keeps one channel's weights in registers and unrolls its taps
// (kernels/direct-args.hpp). The driver turns the geometry into taps:
//
//   forward (DESIGN.md): y[c,p,q] = b[c] + sum_{r,s} w[c,r,s] x[c, p*sh + r*dh - top, q*sw + s*dw - left]
//   backward-input (Diba eqs. 24-29, the full correlation of the stride-dilated dy
//   with rot180(w), written as a gather): dx[c,h,v] = sum_{r,s} w[c,r,s] dyd[c, h + top - r*dh, v + left - s*dw]
//
// Each task writes whole output planes of one image: bit-identical for any split.
#include <algorithm>
#include <vector>

#include "drivers/conv-direct.hpp"
#include "drivers/direct-geometry.hpp"
#include "drivers/parallel.hpp"
#include "drivers/workspace.hpp"

namespace convbp::direct {

namespace {

// Outputs one task aims for.
constexpr int64_t kTaskOutputs = 16384;

struct PlaneTaps {
  std::vector<int64_t> off, lo, hi, rlo, rhi, widx;
  void add(int64_t o, int64_t l, int64_t h, int64_t rl, int64_t rh, int64_t wi) {
    if (l >= h || rl >= rh) return;  // reaches no output: left out
    off.push_back(o);
    lo.push_back(l);
    hi.push_back(h);
    rlo.push_back(rl);
    rhi.push_back(rh);
    widx.push_back(wi);
  }
};

template <typename T>
DirectPlaneRowsArgs<T> args_of(const PlaneTaps& t) {
  DirectPlaneRowsArgs<T> a;
  a.ntaps = int64_t(t.off.size());
  a.off = t.off.data();
  a.lo = t.lo.data();
  a.hi = t.hi.data();
  a.rlo = t.rlo.data();
  a.rhi = t.rhi.data();
  a.widx = t.widx.data();
  return a;
}

// Tasks over (image, block of channels): equal blocks, at least one task per thread.
struct Split {
  int64_t cb, cblocks;
};
Split split_channels(int64_t N, int64_t C, int64_t plane) {
  const int64_t nt = num_threads();
  int64_t per_image = std::max<int64_t>(1, std::min(C, C * plane / kTaskOutputs));
  while (N * per_image < nt && per_image < C) ++per_image;
  const int64_t cb = (C + per_image - 1) / per_image;
  return Split{cb, (C + cb - 1) / cb};
}

}  // namespace

bool plane_rows_fits(const ConvParams& p) { return p.groups > 1 && p.Cg() == 1 && p.Kg() == 1; }

template <typename T>
void forward_planes(const KernelTable& kt, const ConvParams& p, const T* x, const T* w, const T* bias, T* y) {
  const auto plane_rows = kt.direct<T>().plane_rows;
  const int64_t P = p.P(), Q = p.Q(), RS = p.R * p.S, C = p.C, HW = p.H * p.W;
  const SplitGeom sg = split_geom(p);
  const std::vector<ColTap> cols = forward_col_taps(p, sg.copy ? sg.phase : 0);
  const int64_t pitch = sg.copy ? sg.pitch : p.W, plane = sg.copy ? sg.plane : HW;
  PlaneTaps taps;
  for (int64_t r = 0; r < p.R; ++r) {
    int64_t a, b;
    valid_range(r * p.dil_h - p.pad_top, p.stride_h, p.H, P, a, b);
    for (int64_t s = 0; s < p.S; ++s) {
      const ColTap& ct = cols[size_t(s)];
      taps.add((r * p.dil_h - p.pad_top) * pitch + ct.offset, ct.lo, ct.hi, a, b, r * p.S + s);
    }
  }
  DirectPlaneRowsArgs<T> base = args_of<T>(taps);
  base.m = P;
  base.n = Q;
  base.src_c = plane;
  base.src_row = p.stride_h * pitch;
  base.w_c = RS;
  base.bias_c = 1;
  base.out_c = P * Q;
  base.out_row = Q;
  const Split sp = split_channels(p.N, C, P * Q);
  parallel_for(p.N * sp.cblocks, [&](int64_t task) {
    const int64_t n = task / sp.cblocks, c0 = task % sp.cblocks * sp.cb, cn = std::min(sp.cb, C - c0);
    DirectPlaneRowsArgs<T> a = base;
    a.channels = cn;
    if (sg.copy) {
      T* buf = thread_scratch<T>(cn * plane);
      split_planes(kt, sg, x + (n * C + c0) * HW, cn, buf);
      a.src = buf;
    } else {
      a.src = x + (n * C + c0) * HW;
    }
    a.w = w + c0 * RS;
    a.bias = bias ? bias + c0 : nullptr;
    a.out = y + (n * C + c0) * P * Q;
    plane_rows(a);
  });
}

// Strided backward-input is split by output phase (h mod sh, v mod sw), as in the
// general driver (direct-geometry.hpp: phase_taps): in a phase only the taps landing
// on real dy entries exist, and they form a unit-stride correlation over dy. Each
// column phase is computed contiguously, then merged into the dx rows of its row phase.
template <typename T>
void backward_input_planes(const KernelTable& kt, const ConvParams& p, const T* dy, const T* w, T* dx) {
  const auto plane_rows = kt.direct<T>().plane_rows;
  const int64_t P = p.P(), Q = p.Q(), RS = p.R * p.S, C = p.C, H = p.H, W = p.W;
  const int64_t sh = p.stride_h, sw = p.stride_w;
  struct Phase {
    int64_t fh, fw, rows, cols;
    PlaneTaps taps;
  };
  std::vector<Phase> phases;
  for (int64_t fh = 0; fh < sh && fh < H; ++fh) {
    const std::vector<PhaseTap> rt = phase_taps(fh, sh, p.dil_h, p.pad_top, p.R, H, P);
    for (int64_t fw = 0; fw < sw && fw < W; ++fw) {
      const std::vector<PhaseTap> ct = phase_taps(fw, sw, p.dil_w, p.pad_left, p.S, W, Q);
      Phase ph{fh, fw, phase_count(H, sh, fh), phase_count(W, sw, fw), {}};
      for (int64_t r = 0; r < p.R; ++r)
        for (int64_t s = 0; s < p.S; ++s) {
          const PhaseTap &tr = rt[size_t(r)], &tc = ct[size_t(s)];
          ph.taps.add(tr.base * Q + tc.base, tc.lo, tc.hi, tr.lo, tr.hi, r * p.S + s);
        }
      phases.push_back(std::move(ph));
    }
  }
  const int64_t cmax = phase_count(W, sw, 0), rmax = phase_count(H, sh, 0), nfw = std::min(sw, W);
  const Split sp = split_channels(p.N, C, H * W);
  parallel_for(p.N * sp.cblocks, [&](int64_t task) {
    const int64_t n = task / sp.cblocks, c0 = task % sp.cblocks * sp.cb, cn = std::min(sp.cb, C - c0);
    T* dxc = dx + (n * C + c0) * H * W;
    const int64_t block = cn * rmax * cmax;  // one column phase of the task's channels
    T* tmp = (sh > 1 || sw > 1) ? thread_scratch<T>(nfw * block) : nullptr;
    for (const Phase& ph : phases) {
      DirectPlaneRowsArgs<T> a = args_of<T>(ph.taps);
      a.channels = cn;
      a.m = ph.rows;
      a.n = ph.cols;
      a.src = dy + (n * C + c0) * P * Q;
      a.src_c = P * Q;
      a.src_row = Q;
      a.w = w + c0 * RS;
      a.w_c = RS;
      if (sw == 1) {  // the phase's rows are dx rows fh + sh*i: written in place
        a.out = dxc + ph.fh * W;
        a.out_c = H * W;
        a.out_row = sh * W;
        plane_rows(a);
        continue;
      }
      a.out = tmp + ph.fw * block;
      a.out_c = rmax * cmax;
      a.out_row = cmax;
      plane_rows(a);
      if (ph.fw + 1 < nfw) continue;  // merge once every column phase of this row phase is done
      for (int64_t c = 0; c < cn; ++c)
        for (int64_t i = 0; i < ph.rows; ++i)
          merge_phases(tmp + (c * rmax + i) * cmax, block, sw, W, dxc + c * H * W + (ph.fh + sh * i) * W);
    }
  });
}

#define CONVBP_INSTANTIATE(T)                                                                                    \
  template void forward_planes<T>(const KernelTable&, const ConvParams&, const T*, const T*, const T*, T*); \
  template void backward_input_planes<T>(const KernelTable&, const ConvParams&, const T*, const T*, T*);
CONVBP_INSTANTIATE(float)
CONVBP_INSTANTIATE(double)
#undef CONVBP_INSTANTIATE

}  // namespace convbp::direct
