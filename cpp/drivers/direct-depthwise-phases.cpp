// Strided depthwise convolutions (multiplier 1) by the plane kernels, after a
// split of each input plane into its sh x sw stride phases:
//
//   phase (a, f), row u, column v  holds  x[c, a + sh*u, f + sw*v]
//
// Then output (p, q)'s tap (r, s) reads input row p*sh + o_r (o_r = r*dh - top),
// which is row p + floor(o_r / sh) of row phase mod(o_r, sh), and the same for
// columns: every tap is a stride-1 read of one phase plane at a constant offset, so
//
//   forward (DESIGN.md): y[c,p,q] = b[c] + sum_{r,s} w[c,r,s] phase_{a_r,f_s}[c, p + u_r, q + v_s]
//   backward-weight (Diba eq. 15): dw[c,r,s] = sum_{n,p,q} dy[n,c,p,q] phase_{a_r,f_s}[n, c, p + u_r, q + v_s]
//
// are the plane-rows and plane-dots kernels' stride-1 forms, with each tap's valid
// output rows and columns as its ranges (padding is skipped, never read). When the
// phase planes are stored with the output's row length Q, the planes' rows are
// contiguous with the output's and the kernels take their flat path
// (kernels/direct-plane-flat.inl): a 7x7 output of a 14x14 plane is 4 vectors per
// tap instead of 7 half-empty rows. The split (the ISA's split_columns, one call
// per row phase) reads each input element once; columns past the pitch are read
// by no tap and are not copied.
//
// Why: on small planes the channel-vector route spent 56-59% of its time (perf) in
// the transposes that interleave 16 planes into pixel vectors, which this route
// does not need; the split costs less. MobileNet's 14x14 stride-2 layer, batch 8,
// one thread, this route's time / the channel-vector route's: fwd 0.59-0.80,
// bwd_weight 0.68-0.97 (builds in separate processes, interleaved, four runs on a
// busy machine; with one image per split, bwd_weight was 1.04-1.08, hence
// kSplitChannels). phases_fits has where it lost.
//
// Forward tasks are (image, block of channels) and write whole output planes;
// backward-weight tasks are blocks of channels that walk the batch in order: the
// result does not depend on the thread count.
#include <algorithm>
#include <stdexcept>
#include <vector>

#include "drivers/conv-direct.hpp"
#include "drivers/direct-geometry.hpp"
#include "drivers/parallel.hpp"
#include "drivers/workspace.hpp"

namespace convbp::direct {

namespace {

// FMAs one backward-weight task aims for (forward tasks: split_channels), and the
// phase elements one split holds (kept in L2 between the copy and the kernel).
constexpr int64_t kTaskWork = int64_t(1) << 17;
constexpr int64_t kSplitElems = int64_t(1) << 15;
// Backward-weight: the channels a split aims to hold, so that it holds as many
// images as fit beside them and the kernel sums them in registers.
constexpr int64_t kSplitChannels = 16;

// A split buffer is phase-major: phase (a, f) of plane z at (a*sw + f)*block +
// z*phase, so the planes' rows of one phase follow each other with one row step
// and one split_columns call covers a row phase of every plane (when sh divides H).
struct Phases {
  int64_t pitch = 0;  // elements per phase row
  int64_t phase = 0;  // elements per phase plane (ceil(H / sh) rows)
  int64_t block = 0;  // elements per phase block (planes per buffer * phase)
  std::vector<int64_t> off, lo, hi, rlo, rhi, widx;  // tap t = r*S + s
};

// One past the largest phase column any tap reads.
int64_t tap_columns_end(const ConvParams& p) {
  int64_t end = 0;
  for (int64_t s = 0; s < p.S; ++s) {
    const int64_t o = s * p.dil_w - p.pad_left;
    int64_t lo, hi;
    valid_range(o, p.stride_w, p.W, p.Q(), lo, hi);
    if (lo < hi) end = std::max(end, hi + floor_div(o, p.stride_w));
  }
  return end;
}

// Row length Q when no tap reads a phase column >= Q (then the kernels see
// contiguous rows as long as the output's), else the widest phase.
int64_t phase_pitch(const ConvParams& p) {
  return tap_columns_end(p) <= p.Q() ? p.Q() : (p.W + p.stride_w - 1) / p.stride_w;
}

// Elements per phase plane: ceil(H / sh) rows of phase_pitch.
int64_t phase_elems(const ConvParams& p) { return (p.H + p.stride_h - 1) / p.stride_h * phase_pitch(p); }

// Elements per split input plane (sh * sw phases).
int64_t split_plane_elems(const ConvParams& p) { return p.stride_h * p.stride_w * phase_elems(p); }

// The geometry of a buffer of `planes` split planes.
Phases phases_of(const ConvParams& p, int64_t planes) {
  Phases g;
  const int64_t sh = p.stride_h, sw = p.stride_w, P = p.P(), Q = p.Q();
  g.pitch = phase_pitch(p);
  g.phase = phase_elems(p);
  g.block = planes * g.phase;
  for (int64_t r = 0; r < p.R; ++r) {
    const int64_t orow = r * p.dil_h - p.pad_top;
    int64_t rl, rh;
    valid_range(orow, sh, p.H, P, rl, rh);
    for (int64_t s = 0; s < p.S; ++s) {
      const int64_t ocol = s * p.dil_w - p.pad_left;
      int64_t cl, ch;
      valid_range(ocol, sw, p.W, Q, cl, ch);
      g.off.push_back((mod(orow, sh) * sw + mod(ocol, sw)) * g.block + floor_div(orow, sh) * g.pitch +
                      floor_div(ocol, sw));
      g.lo.push_back(cl);
      g.hi.push_back(ch);
      g.rlo.push_back(rl);
      g.rhi.push_back(rh);
      g.widx.push_back(r * p.S + s);
    }
  }
  return g;
}

// Points a kernel's arguments (plane rows or plane dots) at the taps of g.
template <class Args>
void set_taps(Args& a, const Phases& g) {
  a.ntaps = int64_t(g.off.size());
  a.off = g.off.data();
  a.lo = g.lo.data();
  a.hi = g.hi.data();
  a.rlo = g.rlo.data();
  a.rhi = g.rhi.data();
}

// Splits `count` consecutive planes of x into buffer planes [z0, z0 + count).
template <typename T>
void split(const KernelTable& kt, const ConvParams& p, const Phases& g, const T* x, int64_t count, int64_t z0, T* buf) {
  const auto split_columns = kt.move<T>().split_columns;
  const int64_t sh = p.stride_h, sw = p.stride_w, HW = p.H * p.W;
  T* out = buf + z0 * g.phase;
  if (p.H % sh == 0) {  // the planes' phase rows chain (g.phase is H/sh rows): one call per row phase
    for (int64_t a = 0; a < sh; ++a)
      split_columns(x + a * p.W, sh * p.W, count * (p.H / sh), p.W, sw, out + a * sw * g.block, g.pitch, g.block,
                    g.pitch);
    return;
  }
  for (int64_t z = 0; z < count; ++z)
    for (int64_t a = 0; a < sh && a < p.H; ++a)
      split_columns(x + z * HW + a * p.W, sh * p.W, phase_count(p.H, sh, a), p.W, sw,
                    out + z * g.phase + a * sw * g.block, g.pitch, g.block, g.pitch);
}

}  // namespace

// Measured only with AVX-512, whose per-lane k-masks make the flat path cheap
// (AVX2's vector masks, vmaskmovps, ran the flat 14x14 forward 2.4x slower than
// AVX-512 here), and only where it won: interleaved medians in one process, batch
// 8, one thread, channel-vector ms / this route ms, fwd and bwd_weight (before
// kSplitChannels), MobileNet's stride-2 3x3 layers: 14x14 input 1.20 / 1.12;
// 28x28 0.95-0.99 / 0.91-0.93; 56x56 0.74-0.89 / 0.69-0.74; 112x112 0.81 / 0.70
// (the split's two-load rows, and the large layers' reads of x from memory, cost
// more than the channel-vector transposes).
// So: input rows of at most one vector (lanes), and an output that the flat path
// takes (rows narrower than a vector, phases stored with the output's row length,
// at most 512 pixels).
bool phases_fits(const ConvParams& p, Isa isa, int lanes) {
  if (isa != Isa::Avx512) return false;
  if (p.groups <= 1 || p.Cg() != 1 || p.Kg() != 1 || (p.stride_h == 1 && p.stride_w == 1)) return false;
  const int64_t Q = p.Q();
  return p.W <= lanes && Q < lanes && phase_pitch(p) == Q && p.P() * Q <= 512;
}

template <typename T>
void forward_phases(const KernelTable& kt, const ConvParams& p, const T* x, const T* w, const T* bias, T* y) {
  if (!phases_fits(p, kt.isa, kt.direct<T>().cvec_lanes))
    throw std::logic_error("direct forward_phases: needs a strided depthwise convolution on narrow planes (AVX-512)");
  const auto plane_rows = kt.direct<T>().plane_rows;
  const int64_t P = p.P(), Q = p.Q(), RS = p.R * p.S, C = p.C, HW = p.H * p.W, PQ = P * Q;
  // A task splits and convolves `sub` channels at a time.
  const int64_t plane = split_plane_elems(p);
  const int64_t sub = std::max<int64_t>(1, kSplitElems / plane);
  const Phases g = phases_of(p, sub);
  DirectPlaneRowsArgs<T> base;
  set_taps(base, g);
  base.widx = g.widx.data();
  base.m = P;
  base.n = Q;
  base.src_c = g.phase;
  base.src_row = g.pitch;
  base.w_c = RS;
  base.bias_c = 1;
  base.out_c = PQ;
  base.out_row = Q;
  // Tasks: (image, block of channels), at least one per thread.
  const ChannelSplit sp = split_channels(p.N, C, PQ);
  const int64_t cb = sp.cb, cblocks = sp.cblocks;
  parallel_for(p.N * cblocks, [&](int64_t task) {
    const int64_t n = task / cblocks, c0 = task % cblocks * cb, c1 = std::min(C, c0 + cb);
    T* buf = thread_scratch<T>(plane * sub);
    for (int64_t c = c0; c < c1; c += sub) {
      const int64_t cn = std::min(sub, c1 - c);
      split(kt, p, g, x + (n * C + c) * HW, cn, 0, buf);
      DirectPlaneRowsArgs<T> a = base;
      a.channels = cn;
      a.src = buf;
      a.w = w + c * RS;
      a.bias = bias ? bias + c : nullptr;
      a.out = y + (n * C + c) * PQ;
      plane_rows(a);
    }
  });
}

template <typename T>
void backward_weight_phases(const KernelTable& kt, const ConvParams& p, const T* x, const T* dy, T* dw) {
  if (!phases_fits(p, kt.isa, kt.direct<T>().cvec_lanes))
    throw std::logic_error(
        "direct backward_weight_phases: needs a strided depthwise convolution on narrow planes (AVX-512)");
  const auto plane_dots = kt.direct<T>().plane_dots;
  const int64_t P = p.P(), Q = p.Q(), RS = p.R * p.S, C = p.C, N = p.N, HW = p.H * p.W, PQ = P * Q;
  const int64_t plane = split_plane_elems(p);
  DirectPlaneDotsArgs<T> base;
  base.n = Q;
  base.dy_c = PQ;
  base.dy_p = C * PQ;
  base.dy_row = Q;
  base.out_c = RS;
  // Tasks: equal blocks of channels, at least one per thread, about kTaskWork FMAs each.
  const int64_t nt = num_threads();
  const int64_t work = std::max<int64_t>(1, C * RS * N * PQ);
  int64_t tasks = std::min(C, std::max(nt, (work + kTaskWork - 1) / kTaskWork));
  tasks = std::min(C, (tasks + nt - 1) / nt * nt);
  const int64_t cb = (C + tasks - 1) / tasks;
  // A split holds `sub` channels of NB images; the kernel sums over those images,
  // and the batches of images are added in order. Neither depends on the tasks,
  // so neither does any sum's order.
  const int64_t NB = std::max<int64_t>(1, std::min(N, kSplitElems / (kSplitChannels * plane)));
  const int64_t sub = std::max<int64_t>(1, kSplitElems / (NB * plane));
  // Buffer plane (image z, channel c) is z*sub + c.
  const Phases g = phases_of(p, NB * sub);
  set_taps(base, g);
  base.src_c = g.phase;
  base.src_p = sub * g.phase;
  base.src_row = g.pitch;
  parallel_for((C + cb - 1) / cb, [&](int64_t task) {
    const int64_t c0 = task * cb, c1 = std::min(C, c0 + cb);
    T* buf = thread_scratch<T>(NB * sub * plane);
    for (int64_t c = c0; c < c1; c += sub) {
      const int64_t cn = std::min(sub, c1 - c);
      DirectPlaneDotsArgs<T> a = base;
      a.channels = cn;
      a.src = buf;
      a.out = dw + c * RS;
      for (int64_t n0 = 0; n0 < N; n0 += NB) {
        const int64_t nn = std::min(NB, N - n0);
        for (int64_t z = 0; z < nn; ++z) split(kt, p, g, x + ((n0 + z) * C + c) * HW, cn, z * sub, buf);
        a.planes = nn;
        a.dy = dy + (n0 * C + c) * PQ;
        a.accumulate = n0 > 0;
        plane_dots(a);
      }
    }
  });
}

#define CONVBP_INSTANTIATE(T)                                                                                     \
  template void forward_phases<T>(const KernelTable&, const ConvParams&, const T*, const T*, const T*, T*); \
  template void backward_weight_phases<T>(const KernelTable&, const ConvParams&, const T*, const T*, T*);
CONVBP_INSTANTIATE(float)
CONVBP_INSTANTIATE(double)
#undef CONVBP_INSTANTIATE

}  // namespace convbp::direct
