// The direct route's depthwise passes (multiplier 1) on small planes with L
// channels in the vector lanes (kernels/direct-cvec.inl). A task takes a block of
// L channels: their planes are interleaved into pixels of L lanes inside a
// zero-padded buffer (the ISA's transpose kernel, one input row at a time), the
// kernel runs on pixels, and the result is transposed back. The copies read and
// write each element once; in exchange every load of the kernel is a full,
// unmasked vector at any stride (kernels/direct-cvec.inl says why that matters).
//
//   forward (DESIGN.md): y[c,p,q] = b[c] + sum_{r,s} w[c,r,s] x[c, p*sh + r*dh - top, q*sw + s*dw - left]
//   backward-input, the seeds' gather form (Diba eqs. 24-29: dx is the full
//   correlation of the stride-dilated dy with rot180(w)), split by output phase
//   (h mod sh, v mod sw) so only the taps that land on real dy entries exist
//   (direct-geometry.hpp: phase_taps): dx[c, fh + sh*i, fw + sw*j] =
//       sum over the phase's taps (r, s) of w[c,r,s] dy[c, base_r + i, base_s + j]
//   backward-weight (Diba eq. 15): dw[c,r,s] = sum_{n,p,q} x[c, p*sh + r*dh - top, ...] dy[c,p,q]
//
// Forward and backward-input tasks are (image, channel block), backward-weight
// tasks are channel blocks that walk every image in order, adding each image's
// sums in double: no two tasks write one element, and the result does not depend
// on the thread count.
#include <algorithm>
#include <vector>

#include "drivers/conv-direct.hpp"
#include "drivers/direct-geometry.hpp"
#include "drivers/parallel.hpp"
#include "drivers/workspace.hpp"

namespace convbp::direct {

namespace {

// A zero-padded buffer of rows x cols pixels (L lanes each) holding a block of
// channel planes (`size_h` x `size_w`) with plane pixel (h, w) at buffer pixel
// (h + top, w + left); plane pixels that land outside the buffer are never read
// by the kernel and are not copied.
struct Padded {
  int64_t rows = 0, cols = 0, top = 0, left = 0;
  int64_t pixels() const { return rows * cols; }
};

template <typename T>
void interleave(const KernelTable& kt, const Padded& g, const T* planes, int64_t plane_stride, int64_t cn,
                int64_t size_h, int64_t size_w, int L, T* buf) {
  const int64_t w0 = std::max<int64_t>(0, -g.left), w1 = std::min(size_w, g.cols - g.left);
  const int64_t h0 = std::max<int64_t>(0, -g.top), h1 = std::min(size_h, g.rows - g.top);
  if (w0 >= w1 || h0 >= h1 || cn < L) {  // a channel tail leaves lanes unwritten: zero it all
    std::fill(buf, buf + g.pixels() * L, T(0));
    if (w0 >= w1 || h0 >= h1) return;
  } else {  // zero only the padding around the copied block (saves a memset per task)
    std::fill(buf, buf + (h0 + g.top) * g.cols * L, T(0));
    std::fill(buf + (h1 + g.top) * g.cols * L, buf + g.pixels() * L, T(0));
    for (int64_t h = h0; h < h1; ++h) {
      T* row = buf + (h + g.top) * g.cols * L;
      std::fill(row, row + (w0 + g.left) * L, T(0));
      std::fill(row + (w1 + g.left) * L, row + g.cols * L, T(0));
    }
  }
  for (int64_t h = h0; h < h1; ++h)
    kt.move<T>().transpose(planes + h * size_w + w0, plane_stride, cn, w1 - w0,
                           buf + ((h + g.top) * g.cols + w0 + g.left) * L, L);
}

// w (C, 1, R, S) -> L-lane weight pixels of channels [c0, c0 + cn): wbuf[t*L + l].
template <typename T>
void interleave_weights(const T* w, int64_t c0, int64_t cn, int64_t RS, int L, T* wbuf) {
  std::fill(wbuf, wbuf + RS * L, T(0));
  for (int64_t l = 0; l < cn; ++l)
    for (int64_t t = 0; t < RS; ++t) wbuf[t * L + l] = w[(c0 + l) * RS + t];
}

struct Taps {
  std::vector<int64_t> off, widx;
};

template <typename T>
DirectCvecArgs<T> with_taps(const Taps& t) {
  DirectCvecArgs<T> a;
  a.ntaps = int64_t(t.off.size());
  a.off = t.off.data();
  a.widx = t.widx.data();
  return a;
}

// The forward-form geometry (forward, backward-weight): the padded input covers
// every pixel the P x Q outputs read, taps at r*dh rows and s*dw columns.
Padded forward_buffer(const ConvParams& p) {
  return Padded{(p.P() - 1) * p.stride_h + (p.R - 1) * p.dil_h + 1, (p.Q() - 1) * p.stride_w + (p.S - 1) * p.dil_w + 1,
                p.pad_top, p.pad_left};
}
Taps forward_taps(const ConvParams& p, const Padded& g) {
  Taps t;
  for (int64_t r = 0; r < p.R; ++r)
    for (int64_t s = 0; s < p.S; ++s) {
      t.off.push_back(r * p.dil_h * g.cols + s * p.dil_w);
      t.widx.push_back(r * p.S + s);
    }
  return t;
}

int64_t channel_blocks(const ConvParams& p, int L) { return (p.C + L - 1) / L; }

}  // namespace

// Where the channel-vector kernels beat the plane kernels, measured on this
// machine (AMD Zen 4, AVX-512; MobileNet's depthwise 3x3 layers at batch 8, one
// thread, ms fwd / bwd_data / bwd_weight, plane kernels -> these):
//   stride 2: 112x112 3.06/3.82/3.10 -> 2.85/2.89/2.75, 56x56 1.46/1.50/1.33 ->
//   1.28/1.22/1.05, 28x28 0.65/0.83/0.66 -> 0.46/0.49/0.45, 14x14 0.64/0.79/0.60 ->
//   0.32/0.38/0.32 (the plane kernels first split each row into column phases);
//   stride 1: 7x7 0.50/0.51/0.51 -> 0.37-0.54/0.38-0.52/0.35, but 14x14 and up
//   slower (14x14 0.51 -> 0.62 forward), where rows fill the plane kernels' vectors.
//   Stride-1 planes whose output is as wide as the input ("same" padding) go to the
//   plane kernels' flat path instead (direct-plane-flat.inl): 7x7 -> FLAT.
bool cvec_fits(const ConvParams& p) {
  if (p.groups <= 1 || p.Cg() != 1 || p.Kg() != 1) return false;
  if (p.stride_h > 1 || p.stride_w > 1) return true;
  return p.H * p.W <= 8 * 8 && p.Q() != p.W;
}

template <typename T>
void forward_cvec(const KernelTable& kt, const ConvParams& p, const T* x, const T* w, const T* bias, T* y) {
  const DirectKernels<T>& dk = kt.direct<T>();
  const int L = dk.cvec_lanes;
  const int64_t P = p.P(), Q = p.Q(), C = p.C, HW = p.H * p.W, RS = p.R * p.S, cblocks = channel_blocks(p, L);
  const Padded g = forward_buffer(p);
  const Taps taps = forward_taps(p, g);
  parallel_for(p.N * cblocks, [&](int64_t task) {
    const int64_t n = task / cblocks, c0 = task % cblocks * L, cn = std::min<int64_t>(L, C - c0);
    T* buf = thread_scratch<T>(g.pixels() * L + P * Q * L + RS * L + L);
    T* out = buf + g.pixels() * L;
    T* wbuf = out + P * Q * L;
    T* bbuf = wbuf + RS * L;
    interleave(kt, g, x + (n * C + c0) * HW, HW, cn, p.H, p.W, L, buf);
    interleave_weights(w, c0, cn, RS, L, wbuf);
    if (bias) {
      std::fill(bbuf, bbuf + L, T(0));
      std::copy(bias + c0, bias + c0 + cn, bbuf);
    }
    DirectCvecArgs<T> a = with_taps<T>(taps);
    a.m = P, a.n = Q;
    a.src = buf, a.src_row = p.stride_h * g.cols, a.src_col = p.stride_w;
    a.w = wbuf, a.bias = bias ? bbuf : nullptr;
    a.out = out, a.out_row = Q, a.out_col = 1;
    dk.cvec_rows(a);
    kt.move<T>().transpose(out, L, P * Q, cn, y + (n * C + c0) * P * Q, P * Q);
  });
}

template <typename T>
void backward_input_cvec(const KernelTable& kt, const ConvParams& p, const T* dy, const T* w, T* dx) {
  const DirectKernels<T>& dk = kt.direct<T>();
  const int L = dk.cvec_lanes;
  const int64_t P = p.P(), Q = p.Q(), C = p.C, H = p.H, W = p.W, RS = p.R * p.S, cblocks = channel_blocks(p, L);
  const int64_t sh = p.stride_h, sw = p.stride_w;
  const PixelPhases pp = pixel_phases(p);
  const std::vector<PixelPhase>& phases = pp.phases;
  const Padded g{pp.buffer_rows(), pp.buffer_cols(), -pp.rmin, -pp.cmin};
  std::vector<Taps> phase_taps_of(phases.size());
  for (size_t k = 0; k < phases.size(); ++k)
    for (size_t t = 0; t < phases[k].rs.size(); ++t) {
      phase_taps_of[k].off.push_back((phases[k].rbase[t] - pp.rmin) * g.cols + (phases[k].cbase[t] - pp.cmin));
      phase_taps_of[k].widx.push_back(phases[k].rs[t]);
    }
  parallel_for(p.N * cblocks, [&](int64_t task) {
    const int64_t n = task / cblocks, c0 = task % cblocks * L, cn = std::min<int64_t>(L, C - c0);
    T* buf = thread_scratch<T>(g.pixels() * L + H * W * L + RS * L);
    T* out = buf + g.pixels() * L;
    T* wbuf = out + H * W * L;
    interleave(kt, g, dy + (n * C + c0) * P * Q, P * Q, cn, P, Q, L, buf);
    interleave_weights(w, c0, cn, RS, L, wbuf);
    for (size_t k = 0; k < phases.size(); ++k) {
      const PixelPhase& ph = phases[k];
      DirectCvecArgs<T> a = with_taps<T>(phase_taps_of[k]);
      a.m = ph.rows, a.n = ph.cols;
      a.src = buf, a.src_row = g.cols, a.src_col = 1;
      a.w = wbuf;
      a.out = out + (ph.fh * W + ph.fw) * L, a.out_row = sh * W, a.out_col = sw;
      dk.cvec_rows(a);
    }
    kt.move<T>().transpose(out, L, H * W, cn, dx + (n * C + c0) * H * W, H * W);
  });
}

template <typename T>
void backward_weight_cvec(const KernelTable& kt, const ConvParams& p, const T* x, const T* dy, T* dw) {
  const DirectKernels<T>& dk = kt.direct<T>();
  const int L = dk.cvec_lanes;
  const int64_t P = p.P(), Q = p.Q(), C = p.C, HW = p.H * p.W, RS = p.R * p.S, cblocks = channel_blocks(p, L);
  const Padded g = forward_buffer(p);
  const Taps taps = forward_taps(p, g);
  parallel_for(cblocks, [&](int64_t cb) {
    const int64_t c0 = cb * L, cn = std::min<int64_t>(L, C - c0);
    T* buf = thread_scratch<T>(g.pixels() * L + P * Q * L + RS * L);
    T* dyb = buf + g.pixels() * L;
    T* part = dyb + P * Q * L;
    std::vector<double> sum(size_t(RS * L), 0.0);
    std::fill(dyb, dyb + P * Q * L, T(0));
    for (int64_t n = 0; n < p.N; ++n) {
      interleave(kt, g, x + (n * C + c0) * HW, HW, cn, p.H, p.W, L, buf);
      kt.move<T>().transpose(dy + (n * C + c0) * P * Q, P * Q, cn, P * Q, dyb, L);
      DirectCvecArgs<T> a = with_taps<T>(taps);
      a.m = P, a.n = Q;
      a.src = buf, a.src_row = p.stride_h * g.cols, a.src_col = p.stride_w;
      a.dy = dyb, a.dy_row = Q;
      a.dw = part;
      dk.cvec_dots(a);
      for (int64_t i = 0; i < RS * L; ++i) sum[size_t(i)] += double(part[i]);
    }
    for (int64_t l = 0; l < cn; ++l)
      for (int64_t t = 0; t < RS; ++t) dw[(c0 + l) * RS + t] = T(sum[size_t(t * L + l)]);
  });
}

#define CONVBP_INSTANTIATE(T)                                                                                  \
  template void forward_cvec<T>(const KernelTable&, const ConvParams&, const T*, const T*, const T*, T*); \
  template void backward_input_cvec<T>(const KernelTable&, const ConvParams&, const T*, const T*, T*);     \
  template void backward_weight_cvec<T>(const KernelTable&, const ConvParams&, const T*, const T*, T*);
CONVBP_INSTANTIATE(float)
CONVBP_INSTANTIATE(double)
#undef CONVBP_INSTANTIATE

}  // namespace convbp::direct
