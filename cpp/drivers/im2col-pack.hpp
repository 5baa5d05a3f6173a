// The im2col side of the im2col + GEMM route (cpp/drivers/conv-im2col.cpp): the
// patch matrix phi(x) of Xu's im2col (seed 002) is never stored whole. Its
// columns are the output pixels j = (n, p, q) of the whole batch, flattened; a
// tile of columns is packed straight from x into the GEMM's micro-panels
// (cpp/drivers/gemm.hpp layouts), and results go straight back to y or dx.
//
// Row t of phi(x) for group g is (c, r, s) with t = (c*R + r)*S + s, c local to
// the group: phi(x)[t, j] = x[n, g*Cg + c, p*sh + r*dh - top, q*sw + s*dw - left],
// zero where that lies in the padding. Padding is written as true zeros, never
// read from x; so, as in PyTorch, an Inf or NaN weight makes NaN where its tap
// meets padding (0 * Inf), where the naive route, which skips padding, does not.
//
// Moving a tile is planned once and then executed row after row by the ISA's
// data-movement kernels (copy_runs / add_runs, cpp/kernels/kernels.hpp): a Plan
// is a list of runs, grouped by kernel tap (r, s) for phi(x), with offsets
// relative to one row (channel) of the source and of the destination. The same
// group serves every channel, so the index arithmetic (image, row, padding
// clipping) is paid once per tile and tap, not once per element.
#pragma once

#include <cstdint>
#include <vector>

#include "convbp/params.hpp"
#include "kernels/kernels.hpp"

namespace convbp {

struct Plan {
  std::vector<CopyRun> runs;
  std::vector<int64_t> first;  // group i is runs[first[i] .. first[i + 1])
  const CopyRun* group(int64_t i) const { return runs.data() + first[size_t(i)]; }
  int64_t size(int64_t i) const { return first[size_t(i) + 1] - first[size_t(i)]; }
};

// Where column `col` of a tile lands in a row of packed B panels (nr columns
// wide, kc rows): panel col/nr, position col%nr; nr == 0 means a plain row.
inline int64_t panel_pos(int64_t col, int nr, int64_t kc) {
  return nr > 0 ? (col / nr) * int64_t(nr) * kc + col % nr : col;
}

// Columns [j0, j0 + len) of an (N, Kt, PQ) tensor viewed as rows of N*PQ
// columns (image stride img = Kt*PQ), one group:
//   plan_gather: tensor row -> tile row in B-panel layout (nr, kc; the last
//                panel's padding columns zeroed) or a plain row (nr == 0);
//   plan_scatter: plain tile row -> tensor row.
void plan_gather(int64_t j0, int64_t len, int64_t PQ, int64_t img, int nr, int64_t kc, Plan& plan);
void plan_scatter(int64_t j0, int64_t len, int64_t PQ, int64_t img, Plan& plan);

// phi(x) columns [j0, j0 + len), one group per tap r*S + s: source offsets are
// relative to x's channel plane of image 0 (x + (g*Cg + c)*H*W), destination as
// in plan_gather. For the row t = (c, r, s), run group r*S + s from that plane.
void plan_im2col(const ConvParams& p, int64_t j0, int64_t len, int nr, int64_t kc, Plan& plan);

// col2im for columns [j0, j0 + len): add-runs, one group per tap, from a plain
// tile row (the row (c, r, s) of dphi) into dx's channel plane of image 0
// (dx + (g*Cg + c)*H*W); padding positions are dropped, and so are the dx rows
// outside [h0, h1) (a band of rows another thread owns).
void plan_col2im(const ConvParams& p, int64_t j0, int64_t len, int64_t h0, int64_t h1, Plan& plan);

// True when phi(x) is x itself reshaped: 1x1 kernel, stride 1, no padding.
inline bool is_pointwise(const ConvParams& p) {
  return p.R == 1 && p.S == 1 && p.stride_h == 1 && p.stride_w == 1 && p.pad_top == 0 && p.pad_bottom == 0 &&
         p.pad_left == 0 && p.pad_right == 0;
}

}  // namespace convbp
