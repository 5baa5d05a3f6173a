// Depthwise convolutions (multiplier 1) by the plane-expand kernels
// (kernels/direct-plane-expand.inl): backward-input, where each dx row is written
// once, in vectors, from dy values moved into place by lane permutes; the forward
// pass at stride 1, which is the same sum over x with the rot180 kernel
// (forward_as_backward_input); and backward-weight, with x rows in place of dx rows.
//
//   backward-input, the seeds' gather form (Diba eqs. 24-29: dx is the full
//   correlation of the stride-dilated dy with rot180(w)), in output terms:
//     dx[c, h, v] = sum over (r, s) with h + top - r*dh = sh*i, v + left - s*dw = sw*j,
//                   0 <= i < P, 0 <= j < Q, of w[c, r, s] dy[c, i, j]
//
// The conditions split into one on rows and one on columns, so the driver lists,
// per dx row h, its (i, r) pairs (the row taps), and per vector-wide chunk of a dx
// row and per kernel column s, the lanes v that take column s and the dy column j
// each one reads. Columns whose lanes do not overlap and whose dy columns fit one
// vector form a group (one load, one permute, one FMA with per-lane weights); a
// group's permute index is j relative to its smallest j. Only real dy entries are
// listed: no inserted zero is read or multiplied, and no dx element is written
// twice. The lists depend only on the geometry, so every channel and image shares
// them.
//
// Tasks are (image, block of channels); each writes whole dx planes, so the result
// does not depend on the thread count.
#include <algorithm>
#include <stdexcept>
#include <vector>

#include "drivers/conv-direct.hpp"
#include "drivers/direct-geometry.hpp"
#include "drivers/parallel.hpp"

namespace convbp::direct {

namespace {

// x elements a backward-weight task aims for.
constexpr int64_t kTaskOutputs = 16384;

struct ExpandTaps {
  std::vector<int64_t> row_begin, row_dy, row_w;
  std::vector<unsigned> store;
  std::vector<int64_t> group_begin, col_dy;
  std::vector<unsigned> col_load, col_out;
  std::vector<int32_t> col_idx;
  std::vector<int64_t> member_begin, member_s;
  std::vector<unsigned> member_lanes;
  int64_t max_groups = 0;
};

// One kernel column s in one chunk of a dx row: the lanes that take it and the dy
// column each of them reads.
struct Column {
  int64_t s = 0;
  unsigned lanes = 0;
  int64_t j[32] = {};
};

// The dy columns [lo, hi] that a set of columns reads.
void column_span(const Column& c, int L, int64_t& lo, int64_t& hi) {
  for (int l = 0; l < L; ++l)
    if (c.lanes >> l & 1u) lo = std::min(lo, c.j[l]), hi = std::max(hi, c.j[l]);
}

ExpandTaps expand_taps(const ConvParams& p, int L) {
  ExpandTaps g;
  const int64_t P = p.P(), Q = p.Q();
  g.row_begin.push_back(0);
  for (int64_t h = 0; h < p.H; ++h) {
    for (int64_t r = 0; r < p.R; ++r) {
      const int64_t num = h + p.pad_top - r * p.dil_h;
      if (num < 0 || num % p.stride_h != 0 || num / p.stride_h >= P) continue;
      g.row_dy.push_back(num / p.stride_h * Q);
      g.row_w.push_back(r);
    }
    g.row_begin.push_back(int64_t(g.row_dy.size()));
  }
  const int64_t chunks = (p.W + L - 1) / L;
  g.group_begin.push_back(0);
  g.member_begin.push_back(0);
  for (int64_t k = 0; k < chunks; ++k) {
    const int64_t v0 = k * L, lanes = std::min<int64_t>(L, p.W - v0);
    g.store.push_back((1u << lanes) - 1u);
    // Columns into groups, first fit: a column joins the first group whose lanes it
    // does not overlap and whose dy columns stay within one vector with its own.
    std::vector<std::vector<Column>> groups;
    for (int64_t s = 0; s < p.S; ++s) {
      Column col;
      col.s = s;
      for (int64_t l = 0; l < lanes; ++l) {
        const int64_t num = v0 + l + p.pad_left - s * p.dil_w;
        if (num < 0 || num % p.stride_w != 0 || num / p.stride_w >= Q) continue;
        col.lanes |= 1u << l;
        col.j[l] = num / p.stride_w;
      }
      if (!col.lanes) continue;  // no lane of this chunk takes column s
      bool placed = false;
      for (auto& grp : groups) {
        unsigned used = 0;
        int64_t lo = Q, hi = -1;
        for (const Column& c : grp) used |= c.lanes, column_span(c, L, lo, hi);
        column_span(col, L, lo, hi);
        if ((used & col.lanes) || hi - lo >= L) continue;
        grp.push_back(col);
        placed = true;
        break;
      }
      if (!placed) groups.push_back({col});
    }
    for (const auto& grp : groups) {
      unsigned out = 0;
      int64_t lo = Q, hi = -1;
      for (const Column& c : grp) {
        out |= c.lanes;
        column_span(c, L, lo, hi);
        g.member_s.push_back(c.s);
        g.member_lanes.push_back(c.lanes);
      }
      g.member_begin.push_back(int64_t(g.member_s.size()));
      for (int l = 0; l < L; ++l) {
        int32_t idx = 0;
        for (const Column& c : grp)
          if (c.lanes >> l & 1u) idx = int32_t(c.j[l] - lo);
        g.col_idx.push_back(idx);
      }
      // One column alone spans at most L - 1 dy columns (its lanes are at most L - 1
      // apart and sw >= 1), so every group fits one vector.
      g.col_dy.push_back(lo);
      g.col_load.push_back((2u << (hi - lo)) - 1u);
      g.col_out.push_back(out);
    }
    g.max_groups = std::max<int64_t>(g.max_groups, int64_t(groups.size()));
    g.group_begin.push_back(int64_t(g.col_dy.size()));
  }
  return g;
}

// The lists of the last geometry this thread asked for: building them costs ~2.5 us
// (vectors, the grouping loop), paid by the route check and again by the call, which
// was a third of a 16-channel 14x14 backward pass. A task of the call's parallel
// loop never asks, so the calling thread's lists stay put while the tasks read them.
const ExpandTaps& expand_taps_memo(const ConvParams& p, int L) {
  thread_local ExpandTaps taps;
  constexpr int kKey = 13;
  thread_local int64_t key[kKey] = {-1};
  const int64_t now[kKey] = {p.H,     p.W,     p.R,        p.S,         p.stride_h, p.stride_w, p.dil_h,
                             p.dil_w, p.P(),   p.Q(),      p.pad_top,   p.pad_left, L};
  if (!std::equal(now, now + kKey, key)) {
    taps = expand_taps(p, L);
    std::copy(now, now + kKey, key);
  }
  return taps;
}

}  // namespace

// Stride 2 over three kernel rows without row dilation: the kernel's paired-row loop
// (each dy row loaded and permuted once for the three dx rows it feeds).
bool pair_rows(const ConvParams& p) { return p.stride_h == 2 && p.R == 3 && p.dil_h == 1; }

// Where this route beats the ones it replaces, measured here (AMD Zen 4, AVX-512,
// batch 8, interleaved medians in one process, time of this route / the other's).
// Backward-input, against the channel-vector kernels (drivers/direct-depthwise-cvec.cpp),
// float32, one thread: MobileNet's 3x3 stride-2 layers 14x14 0.40, 28x28 0.42,
// 56x56 0.71, 112x112 0.95 (batch 1: 14x14 0.59, 112x112 0.47-0.50; two threads:
// 0.48, 0.47, 0.53, 0.93), 3x3 stride (2, 1) 0.35, unpadded 15x15 0.35, 3x3 stride 3
// (one row tap per dx row) 0.62; but 5x5 stride 2 1.08-1.31 and 3x3 stride 2
// dilation 2 0.97, whose rows take several taps through the general row loop (a load
// and a permute per row tap instead of per dy row). Rows of more than 4 vectors lost
// where dx leaves the cache (112x112 at batch 8: 0.93-0.95, against 0.47-0.61 at
// batch 1; again with the plain row stores: 1.10 at one thread, 0.89 at two, 0.56 at
// batch 1; float64 56x56, 7 vectors: 1.28-1.36). Float64 14x14 and 28x28: 0.55-0.60.
// Backward-weight, against the stride-phase route (14x14) and the channel-vector
// kernels, float32, 1 / 2 threads: 14x14 0.57-0.69 / 0.58-0.72, 28x28 0.59-0.66 /
// 0.62-0.70, 3x3 stride (2, 1) 28x28 0.53, unpadded 15x15 0.45; but 56x56 (4 vectors)
// 0.88-1.01 / 1.08, 14x14 at batch 1 1.05-1.07 (the per-channel lane sums), 3x3
// stride 3 (the general loop) 1.17-1.53, and float64 1.01-1.06 at 28x28 and 1.36 at
// 14x14, batch 1. Stride 1 (the forward pass in backward-input form, and
// backward-input), against the plane kernels, float32, 1 / 2 threads / batch 1:
// MobileNet's 3x3 layers 28x28 fwd 0.54 / 0.50 / 0.50, bwd_data 0.52 / 0.56 / 0.53,
// 14x14 0.76 / 0.72 / 0.76 and 0.64 / 0.69 / 0.77, 56x56 1.02 / 0.86 / 0.61 and
// 0.77 / 0.84 / 0.63; but 7x7 1.23 (rows of 7 leave 9 of 16 lanes idle; the flat
// kernels fill them), and float64 28x28 (4 vectors) 1.04-1.07, 14x14 0.57-0.60. So
// backward-input takes the paired-row (stride 2) or triple-row (stride 1, rows wider
// than half a vector) geometry or rows of at most one tap, on rows of at most 4
// vectors (float64 at stride 1: 2); the forward pass the triple-row geometry by the
// same rule. Backward-weight at stride 1 (triple rows), against the plane-dots
// kernels, float32, 1 / 2 threads / batch 1: 28x28 0.59 / 0.60 / 0.67, but 14x14
// 0.82-0.84 / 0.95 / 1.16 (one vector per row: the per-channel lane sums weigh more).
// So backward-weight takes float32 paired rows of at most 2 vectors, or triple rows
// of exactly 2. Since the flat plane kernels take tap runs (one load and two lane
// shifts per kernel row), stride 1 on rows narrower than a vector and as wide as
// dy's (same padding) goes there instead (AMD Zen 5, 1 thread, old/new alternating,
// fwd / bwd_data): MobileNet's 14x14 0.82 / 0.89 of the time here, 10x10 and 12x12
// 0.66-0.82, float64 7x7 and 6x6 0.82-0.92. Rows of exactly one vector stay here:
// the flat kernels do not take them, and the plane rows kernel took 2.0-2.3x as long.
bool triple_rows(const ConvParams& p) { return p.stride_h == 1 && p.R == 3 && p.dil_h == 1; }

// The forward pass at stride 1 as a backward-input problem (DESIGN.md's forward sum
// with r' = R-1-r, s' = S-1-s): y[c,p,q] = b[c] + sum_{r',s'} w'[c,r',s'] x[c, p + top' - r'*dh, q + left' - s'*dw]
// with w' = rot180(w), top' = (R-1)*dh - top, left' = (S-1)*dw - left: "dx" is y
// (P x Q), "dy" is x (H x W), and the bottom and right padding make the sizes match.
ConvParams forward_as_backward_input(const ConvParams& p) {
  ConvParams q = p;
  q.H = p.P(), q.W = p.Q();
  q.pad_top = (p.R - 1) * p.dil_h - p.pad_top, q.pad_left = (p.S - 1) * p.dil_w - p.pad_left;
  q.pad_bottom = p.H - q.H - q.pad_top + (p.R - 1) * p.dil_h;
  q.pad_right = p.W - q.W - q.pad_left + (p.S - 1) * p.dil_w;
  return q;
}

bool expand_fits(const ConvParams& p, const KernelTable& kt, bool f64, Pass pass) {
  if (p.groups <= 1 || p.Cg() != 1 || p.Kg() != 1) return false;
  const bool unit_stride = p.stride_h == 1 && p.stride_w == 1;
  if (pass == Pass::Forward)
    return unit_stride && expand_fits(forward_as_backward_input(p), kt, f64, Pass::BackwardInput);
  const auto kernel_missing = f64 ? !kt.direct<double>().plane_expand : !kt.direct<float>().plane_expand;
  if (kernel_missing || p.R > kExpandMaxRows) return false;
  const int L = f64 ? kt.direct<double>().cvec_lanes : kt.direct<float>().cvec_lanes;
  const int64_t chunks = (p.W + L - 1) / L;
  if (chunks > kExpandMaxChunks) return false;
  const ExpandTaps& g = expand_taps_memo(p, L);
  if (g.max_groups > kExpandMaxGroups) return false;
  if (pass == Pass::BackwardWeight) return !f64 && chunks <= 2 && (pair_rows(p) || (triple_rows(p) && p.W > L));
  if (unit_stride) return triple_rows(p) && 2 * p.W > L && (!f64 || chunks <= 2) && !plane_flat(p, L);
  if (pair_rows(p) || triple_rows(p)) return true;
  for (size_t h = 0; h + 1 < g.row_begin.size(); ++h)
    if (g.row_begin[h + 1] - g.row_begin[h] > 1) return false;
  return true;
}

namespace {

// The kernel arguments every call shares (the lists in g, the plane geometry).
template <typename T>
DirectPlaneExpandArgs<T> base_args(const ConvParams& p, const ExpandTaps& g) {
  DirectPlaneExpandArgs<T> b;
  b.dy_c = p.P() * p.Q(), b.w_c = p.R * p.S, b.out_c = p.H * p.W;
  b.m = p.H, b.out_row = p.W, b.wrows = p.R, b.wcols = p.S;
  b.pair_rows = pair_rows(p);
  b.triple_rows = triple_rows(p);
  b.top = p.pad_top, b.dy_rows = p.P(), b.dy_row = p.Q();
  b.row_begin = g.row_begin.data(), b.row_dy = g.row_dy.data(), b.row_w = g.row_w.data();
  b.chunks = int64_t(g.store.size()), b.store = g.store.data();
  b.group_begin = g.group_begin.data(), b.col_dy = g.col_dy.data();
  b.col_load = g.col_load.data(), b.col_out = g.col_out.data(), b.col_idx = g.col_idx.data();
  b.member_begin = g.member_begin.data(), b.member_s = g.member_s.data();
  b.member_lanes = g.member_lanes.data();
  return b;
}

// The rows kernel over every (image, block of channels) of a problem in
// backward-input form: out (N, C, H, W) from src (N, C, P, Q) with weights w (C, R, S)
// and an optional bias per channel.
template <typename T>
void expand_rows(const KernelTable& kt, const ConvParams& p, const T* src, const T* w, const T* bias, T* out) {
  const DirectKernels<T>& dk = kt.direct<T>();
  const ExpandTaps& g = expand_taps_memo(p, dk.cvec_lanes);
  DirectPlaneExpandArgs<T> base = base_args<T>(p, g);
  base.bias_c = 1;
  const int64_t PQ = p.P() * p.Q(), HW = p.H * p.W, RS = p.R * p.S, C = p.C;
  const ChannelSplit sp = split_channels(p.N, C, HW);
  parallel_for(p.N * sp.cblocks, [&](int64_t task) {
    const int64_t n = task / sp.cblocks, c0 = task % sp.cblocks * sp.cb, c1 = std::min(C, c0 + sp.cb);
    DirectPlaneExpandArgs<T> a = base;
    a.channels = c1 - c0;
    a.dy = src + (n * C + c0) * PQ;
    a.w = w + c0 * RS;
    a.bias = bias ? bias + c0 : nullptr;
    a.out = out + (n * C + c0) * HW;
    dk.plane_expand(a);
  });
}

}  // namespace

template <typename T>
void backward_input_expand(const KernelTable& kt, const ConvParams& p, const T* dy, const T* w, T* dx) {
  if (!expand_fits(p, kt, sizeof(T) == 8, Pass::BackwardInput))
    throw std::logic_error("direct backward_input_expand: needs a depthwise convolution the kernel's tables hold");
  expand_rows<T>(kt, p, dy, w, nullptr, dx);
}

template <typename T>
void forward_expand(const KernelTable& kt, const ConvParams& p, const T* x, const T* w, const T* bias, T* y) {
  if (!expand_fits(p, kt, sizeof(T) == 8, Pass::Forward))
    throw std::logic_error("direct forward_expand: needs a stride-1 depthwise convolution the kernel's tables hold");
  const int64_t RS = p.R * p.S, C = p.C;
  std::vector<T> wr(size_t(C * RS));  // rot180(w)
  for (int64_t c = 0; c < C; ++c)
    for (int64_t t = 0; t < RS; ++t) wr[size_t(c * RS + t)] = w[c * RS + RS - 1 - t];
  expand_rows<T>(kt, forward_as_backward_input(p), x, wr.data(), bias, y);
}

// dw[c, r, s] = sum_{n,p,q} x[n, c, p*sh + r*dh - top, q*sw + s*dw - left] dy[n, c, p, q]
// (Diba eq. 15), gathered per x row: row h meets dy row i through kernel row r
// exactly where dx row h took dy row i in backward-input, and lane v of x meets the
// dy value that lane v of dx took there, so the same lists and permutes serve.
// Tasks are blocks of channels that walk the batch in order: no two tasks write one
// dw element, and the sums' order does not depend on the thread count.
template <typename T>
void backward_weight_expand(const KernelTable& kt, const ConvParams& p, const T* x, const T* dy, T* dw) {
  const DirectKernels<T>& dk = kt.direct<T>();
  if (!expand_fits(p, kt, sizeof(T) == 8, Pass::BackwardWeight))
    throw std::logic_error("direct backward_weight_expand: needs a strided depthwise convolution the kernel's tables hold");
  const ExpandTaps& g = expand_taps_memo(p, dk.cvec_lanes);
  DirectPlaneExpandArgs<T> base = base_args<T>(p, g);
  const int64_t PQ = p.P() * p.Q(), HW = p.H * p.W, RS = p.R * p.S, C = p.C;
  base.x_c = HW, base.x_row = p.W, base.x_n = C * HW, base.dy_n = C * PQ, base.images = p.N;
  // Tasks: equal blocks of channels, a multiple of the thread count where there are
  // enough channels, about kTaskOutputs x elements each.
  const int64_t nt = num_threads();
  int64_t tasks = std::min(C, std::max(nt, C * p.N * HW / kTaskOutputs));
  tasks = std::min(C, (tasks + nt - 1) / nt * nt);
  const int64_t cb = (C + tasks - 1) / tasks;
  parallel_for((C + cb - 1) / cb, [&](int64_t task) {
    const int64_t c0 = task * cb, c1 = std::min(C, c0 + cb);
    std::vector<double> sums(size_t((c1 - c0) * RS), 0.0);
    DirectPlaneExpandArgs<T> a = base;
    a.channels = c1 - c0;
    a.x = x + c0 * HW;
    a.dy = dy + c0 * PQ;
    a.dw = sums.data();
    dk.plane_expand_dots(a);
    for (int64_t i = 0; i < (c1 - c0) * RS; ++i) dw[c0 * RS + i] = T(sums[size_t(i)]);
  });
}

#define CONVBP_INSTANTIATE(T)                                                                            \
  template void forward_expand<T>(const KernelTable&, const ConvParams&, const T*, const T*, const T*, T*); \
  template void backward_input_expand<T>(const KernelTable&, const ConvParams&, const T*, const T*, T*); \
  template void backward_weight_expand<T>(const KernelTable&, const ConvParams&, const T*, const T*, T*);
CONVBP_INSTANTIATE(float)
CONVBP_INSTANTIATE(double)
#undef CONVBP_INSTANTIATE

}  // namespace convbp::direct
