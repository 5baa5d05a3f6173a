// Backward-input of strided depthwise convolutions (multiplier 1) by the
// plane-expand kernel (kernels/direct-plane-expand.inl): each dx row is written
// once, in vectors, from dy values moved into place by lane permutes.
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
#include "drivers/parallel.hpp"

namespace convbp::direct {

namespace {

// dx elements one task aims for.
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

}  // namespace

// Stride 2 over three kernel rows without row dilation: the kernel's paired-row loop
// (each dy row loaded and permuted once for the three dx rows it feeds).
bool pair_rows(const ConvParams& p) { return p.stride_h == 2 && p.R == 3 && p.dil_h == 1; }

// Where this route beats the channel-vector one (drivers/direct-depthwise-cvec.cpp),
// measured here (AMD Zen 4, AVX-512, float32, batch 8, one thread, interleaved
// medians, time of this route / channel-vector): MobileNet's 3x3 stride-2 layers
// 14x14 0.40, 28x28 0.42, 56x56 0.71, 112x112 0.95 (batch 1: 14x14 0.59, 112x112
// 0.47-0.50), 3x3 stride (2, 1) 0.35, unpadded 15x15 0.35, 3x3 stride 3 (one row tap
// per dx row) 0.62; but 5x5 stride 2 1.08-1.31 and 3x3 stride 2 dilation 2 0.97,
// whose rows take several taps through the general row loop (a load and a permute
// per row tap instead of per dy row). Rows of more than 4 vectors lost where dx
// leaves the cache (112x112 at batch 8: 0.93-0.95 at 1 and 2 threads, against
// 0.47-0.61 at batch 1; float64 56x56, 7 vectors, batch 8: 1.28-1.36). So: the
// paired-row geometry or rows of at most one tap, and dx rows of at most 4 vectors.
bool expand_fits(const ConvParams& p, const KernelTable& kt, bool f64) {
  if (p.groups <= 1 || p.Cg() != 1 || p.Kg() != 1 || (p.stride_h == 1 && p.stride_w == 1)) return false;
  if (f64 ? !kt.direct<double>().plane_expand : !kt.direct<float>().plane_expand) return false;
  if (p.R > kExpandMaxRows) return false;
  const int L = f64 ? kt.direct<double>().cvec_lanes : kt.direct<float>().cvec_lanes;
  if ((p.W + L - 1) / L > kExpandMaxChunks) return false;
  const ExpandTaps g = expand_taps(p, L);
  if (g.max_groups > kExpandMaxGroups) return false;
  if (pair_rows(p)) return true;
  for (size_t h = 0; h + 1 < g.row_begin.size(); ++h)
    if (g.row_begin[h + 1] - g.row_begin[h] > 1) return false;
  return true;
}

template <typename T>
void backward_input_expand(const KernelTable& kt, const ConvParams& p, const T* dy, const T* w, T* dx) {
  const DirectKernels<T>& dk = kt.direct<T>();
  if (!expand_fits(p, kt, sizeof(T) == 8))
    throw std::logic_error("direct backward_input_expand: needs a strided depthwise convolution the kernel's tables hold");
  const ExpandTaps g = expand_taps(p, dk.cvec_lanes);
  const int64_t PQ = p.P() * p.Q(), HW = p.H * p.W, RS = p.R * p.S, C = p.C;
  DirectPlaneExpandArgs<T> base;
  base.dy_c = PQ, base.w_c = RS, base.out_c = HW;
  base.m = p.H, base.out_row = p.W, base.wrows = p.R, base.wcols = p.S;
  base.pair_rows = pair_rows(p);
  base.top = p.pad_top, base.dy_rows = p.P(), base.dy_row = p.Q();
  base.row_begin = g.row_begin.data(), base.row_dy = g.row_dy.data(), base.row_w = g.row_w.data();
  base.chunks = int64_t(g.store.size()), base.store = g.store.data();
  base.group_begin = g.group_begin.data(), base.col_dy = g.col_dy.data();
  base.col_load = g.col_load.data(), base.col_out = g.col_out.data(), base.col_idx = g.col_idx.data();
  base.member_begin = g.member_begin.data(), base.member_s = g.member_s.data();
  base.member_lanes = g.member_lanes.data();
  // Tasks: (image, block of channels), at least one per thread.
  const int64_t nt = num_threads();
  int64_t per_image = std::max<int64_t>(1, std::min(C, C * HW / kTaskOutputs));
  while (p.N * per_image < nt && per_image < C) ++per_image;
  const int64_t cb = (C + per_image - 1) / per_image, cblocks = (C + cb - 1) / cb;
  parallel_for(p.N * cblocks, [&](int64_t task) {
    const int64_t n = task / cblocks, c0 = task % cblocks * cb, c1 = std::min(C, c0 + cb);
    DirectPlaneExpandArgs<T> a = base;
    a.channels = c1 - c0;
    a.dy = dy + (n * C + c0) * PQ;
    a.w = w + c0 * RS;
    a.out = dx + (n * C + c0) * HW;
    dk.plane_expand(a);
  });
}

#define CONVBP_INSTANTIATE(T) \
  template void backward_input_expand<T>(const KernelTable&, const ConvParams&, const T*, const T*, T*);
CONVBP_INSTANTIATE(float)
CONVBP_INSTANTIATE(double)
#undef CONVBP_INSTANTIATE

}  // namespace convbp::direct
