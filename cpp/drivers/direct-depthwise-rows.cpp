// Forward and backward-input of the direct route for depthwise convolutions with
// channel multiplier 1 (groups == C == K): each output plane reads one input plane
// with its own R*S weights, so the general rows kernel (taps streamed through a tile
// of outputs, scalar work per tap per tile) is replaced by the plane-rows kernel,
// which keeps one channel's weights in registers and unrolls its taps
// (kernels/direct-args.hpp). Stride 1 only (strided depthwise layers take the
// channel-vector kernels). The driver turns the geometry into taps:
//
//   forward (DESIGN.md): y[c,p,q] = b[c] + sum_{r,s} w[c,r,s] x[c, p + r*dh - top, q + s*dw - left]
//   backward-input (Diba eqs. 24-29, the full correlation of dy with rot180(w),
//   written as a gather): dx[c,h,v] = sum_{r,s} w[c,r,s] dy[c, h + top - r*dh, v + left - s*dw]
//
// Each task writes whole output planes of one image: bit-identical for any split.
#include <algorithm>
#include <stdexcept>
#include <vector>

#include "drivers/conv-direct.hpp"
#include "drivers/direct-geometry.hpp"
#include "drivers/parallel.hpp"

namespace convbp::direct {

namespace {

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

}  // namespace

// Stride 1 only: every strided depthwise layer goes to the channel-vector kernels
// (direct-depthwise-cvec.cpp: cvec_fits), which are faster there at every plane size
// measured, so this driver has no stride phases.
bool plane_rows_fits(const ConvParams& p) {
  return p.groups > 1 && p.Cg() == 1 && p.Kg() == 1 && p.stride_h == 1 && p.stride_w == 1;
}

bool plane_flat(const ConvParams& p, int64_t lanes) {
  return p.stride_h == 1 && p.stride_w == 1 && p.Q() == p.W && p.W < lanes;
}

// The forward tasks of the plane kernels: (image, block of channels), each one call
// of `kernel` on `base` with its channels' input, weights (R*S a channel), bias and
// output.
template <typename T, class Args>
void forward_channel_blocks(const ConvParams& p, const Args& base, void (*kernel)(const Args&), const T* x, const T* w,
                            const T* bias, T* y) {
  const int64_t C = p.C, HW = p.H * p.W, PQ = p.P() * p.Q(), RS = p.R * p.S;
  const ChannelSplit sp = split_channels(p.N, C, PQ);
  parallel_for(p.N * sp.cblocks, [&](int64_t task) {
    const int64_t n = task / sp.cblocks, c0 = task % sp.cblocks * sp.cb, cn = std::min(sp.cb, C - c0);
    Args a = base;
    a.channels = cn;
    a.src = x + (n * C + c0) * HW;
    a.w = w + c0 * RS;
    a.bias = bias ? bias + c0 : nullptr;
    a.out = y + (n * C + c0) * PQ;
    kernel(a);
  });
}

template <typename T>
void forward_planes(const KernelTable& kt, const ConvParams& p, const T* x, const T* w, const T* bias, T* y) {
  if (!plane_rows_fits(p)) throw std::logic_error("direct forward_planes: needs a depthwise, stride-1 convolution");
  const auto plane_rows = kt.direct<T>().plane_rows;
  const int64_t P = p.P(), Q = p.Q(), RS = p.R * p.S, HW = p.H * p.W;
  const std::vector<ColTap> cols = forward_col_taps(p, 0);
  PlaneTaps taps;
  for (int64_t r = 0; r < p.R; ++r) {
    int64_t a, b;
    valid_range(r * p.dil_h - p.pad_top, 1, p.H, P, a, b);
    for (int64_t s = 0; s < p.S; ++s) {
      const ColTap& ct = cols[size_t(s)];
      taps.add((r * p.dil_h - p.pad_top) * p.W + ct.offset, ct.lo, ct.hi, a, b, r * p.S + s);
    }
  }
  DirectPlaneRowsArgs<T> base = args_of<T>(taps);
  base.m = P;
  base.n = Q;
  base.src_c = HW;
  base.src_row = p.W;
  base.w_c = RS;
  base.bias_c = 1;
  base.out_c = P * Q;
  base.out_row = Q;
  forward_channel_blocks(p, base, plane_rows, x, w, bias, y);
}

bool plane_s2_fits(const ConvParams& p, const KernelTable& kt, bool f64) {
  const bool kernel = f64 ? kt.direct<double>().plane_s2 != nullptr : kt.direct<float>().plane_s2 != nullptr;
  const int64_t lanes = f64 ? 8 : 16;
  return kernel && p.groups > 1 && p.Cg() == 1 && p.Kg() == 1 && p.stride_w == 2 && p.S == 3 && p.dil_w == 1 &&
         p.R <= kPlaneS2MaxRows && (p.Q() + lanes - 1) / lanes <= kPlaneS2MaxVectors;
}

bool plane_s2_pairs(const ConvParams& p, bool f64) { return 2 * p.Q() + 1 <= (f64 ? 8 : 16); }

bool forward_phases_first(const ConvParams& p, const KernelTable& kt, bool f64) {
  const int lanes = f64 ? kt.direct<double>().cvec_lanes : kt.direct<float>().cvec_lanes;
  return phases_fits(p, kt.isa, lanes) && !(plane_s2_fits(p, kt, f64) && plane_s2_pairs(p, f64));
}

template <typename T>
void forward_planes_s2(const KernelTable& kt, const ConvParams& p, const T* x, const T* w, const T* bias, T* y) {
  if (!plane_s2_fits(p, kt, sizeof(T) == 8))
    throw std::logic_error("direct forward_planes_s2: needs a depthwise convolution with column stride 2 and 3 "
                           "kernel columns (AVX-512)");
  const auto plane_s2 = kt.direct<T>().plane_s2;
  const int64_t P = p.P(), Q = p.Q(), HW = p.H * p.W;
  DirectPlaneS2Args<T> base;
  base.src_c = HW;
  base.w_c = p.R * p.S;
  base.out_c = P * Q;
  base.bias_c = 1;
  base.m = P;
  base.n = Q;
  base.out_row = Q;
  base.H = p.H;
  base.W = p.W;
  base.src_row = p.W;
  base.rows = p.R;
  base.sh = p.stride_h;
  base.dh = p.dil_h;
  base.top = p.pad_top;
  base.left = p.pad_left;
  forward_channel_blocks(p, base, plane_s2, x, w, bias, y);
}

// At stride 1 the dilated dy is dy itself: dx is one correlation of dy with
// rot180(w), its taps from phase_taps (direct-geometry.hpp) with one phase.
template <typename T>
void backward_input_planes(const KernelTable& kt, const ConvParams& p, const T* dy, const T* w, T* dx) {
  if (!plane_rows_fits(p)) throw std::logic_error("direct backward_input_planes: needs a depthwise, stride-1 convolution");
  const auto plane_rows = kt.direct<T>().plane_rows;
  const int64_t P = p.P(), Q = p.Q(), RS = p.R * p.S, C = p.C, H = p.H, W = p.W;
  const std::vector<PhaseTap> rt = phase_taps(0, 1, p.dil_h, p.pad_top, p.R, H, P);
  const std::vector<PhaseTap> ct = phase_taps(0, 1, p.dil_w, p.pad_left, p.S, W, Q);
  PlaneTaps taps;
  for (int64_t r = 0; r < p.R; ++r)
    for (int64_t s = 0; s < p.S; ++s) {
      const PhaseTap &tr = rt[size_t(r)], &tc = ct[size_t(s)];
      taps.add(tr.base * Q + tc.base, tc.lo, tc.hi, tr.lo, tr.hi, r * p.S + s);
    }
  DirectPlaneRowsArgs<T> base = args_of<T>(taps);
  base.m = H;
  base.n = W;
  base.src_c = P * Q;
  base.src_row = Q;
  base.w_c = RS;
  base.out_c = H * W;
  base.out_row = W;
  const ChannelSplit sp = split_channels(p.N, C, H * W);
  parallel_for(p.N * sp.cblocks, [&](int64_t task) {
    const int64_t n = task / sp.cblocks, c0 = task % sp.cblocks * sp.cb, cn = std::min(sp.cb, C - c0);
    DirectPlaneRowsArgs<T> a = base;
    a.channels = cn;
    a.src = dy + (n * C + c0) * P * Q;
    a.w = w + c0 * RS;
    a.out = dx + (n * C + c0) * H * W;
    plane_rows(a);
  });
}

#define CONVBP_INSTANTIATE(T)                                                                                    \
  template void forward_planes<T>(const KernelTable&, const ConvParams&, const T*, const T*, const T*, T*); \
  template void backward_input_planes<T>(const KernelTable&, const ConvParams&, const T*, const T*, T*);        \
  template void forward_planes_s2<T>(const KernelTable&, const ConvParams&, const T*, const T*, const T*, T*);
CONVBP_INSTANTIATE(float)
CONVBP_INSTANTIATE(double)
#undef CONVBP_INSTANTIATE

}  // namespace convbp::direct
