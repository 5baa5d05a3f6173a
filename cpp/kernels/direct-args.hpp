// The micro-kernel contracts of the direct route (cpp/drivers/conv-direct.cpp).
// All work on rows of outputs with a list of "taps": a tap is one (input row,
// weight) pair whose input row is read contiguously, so every stride, dilation,
// padding and group count reduces, in the driver, to a list of taps with pointer
// offsets and valid column ranges (index arithmetic, never inserted zeros):
//
// rows (forward and backward-input; Zhang et al. ICML 2018: outputs kept in
// registers while every tap streams through them):
//
//   for z < planes, i < m, j < n, with O = out + z*out_p, S_t = src[t] + z*src_p, W_t = w[t] + z*w_p:
//     O[i*out_i + j] = init(z, i, j) + sum_{t < ntaps, lo[t] <= j < hi[t]} W_t[i*w_i] * S_t[i*src_i + j]
//     init(z, i, j) = bias[z*bias_p + i*bias_i]   (bias != nullptr)
//                   = O[i*out_i + j]              (bias == nullptr: accumulate)
//
//   `planes` repeats one tap list over channels or images whose geometry is the
//   same (constant pointer strides), so small planes cost one call, not one each.
//   Exactly one of src_i, w_i is 0: src_i == 0 shares each loaded input vector
//   among m outputs with their own weights (m output channels of one input, or m
//   input channels of one dy in backward-input); w_i == 0 shares each weight among m
//   output rows that read m different input rows (one channel, several rows). Every
//   out element of the m x n block is written, even those no tap reaches (then
//   out = init). src[t][i*src_i + j] is read only for lo[t] <= j < hi[t], so the
//   driver may point src[t] before the start of a row; 0 <= lo[t] <= hi[t] <= n.
//
// dots (backward-weight; Diba eq. 15: x correlated with the dilated dy):
//
//   for t < ntaps, i < m:
//     sum_l acc[t][i*kDotLanes + l] += sum_{z < planes, r < rows, lo[t] <= j < hi[t]}
//         dy[z*dy_p + i*dy_i + r*dy_row + j] * src[t][z*src_p + r*src_row + j]
//
//   The kernel adds its partial sums into the kDotLanes lanes of acc[t] + i*kDotLanes
//   (doubles) in a way fixed per ISA, so the driver's lane sum in fixed order is
//   deterministic. float32 partials are kept in float32 vectors for at most
//   max(kDotFlush, rows * ceil(n / vector width)) terms per lane, then added in float64.
//
// plane dots (backward-weight when every group has one input channel, depthwise:
// Diba eq. 15 with one x plane per dw plane, so no loaded vector is shared between
// weights and a tile is instead every tap of one channel):
//
//   for c < channels, t < ntaps, with X = src + c*src_c + off[t], D = dy + c*dy_c:
//     out[c*out_c + t] = (accumulate ? out[c*out_c + t] : 0)
//         + sum_{z < planes, rlo[t] <= r < rhi[t], lo[t] <= j < hi[t]}
//             D[z*dy_p + r*dy_row + j] * X[z*src_p + r*src_row + j]
//
//   X is read only at the (z, r, j) of the sum (on the flat path's tap runs,
//   anywhere between the first and the last pixel of a plane that some tap reads),
//   so off[t] may be negative where padding makes a tap start before its row. Partial sums are vectors
//   (of T) whose lanes are added in a fixed order per ISA: deterministic for any channel
//   split. A tap with an empty range gives 0.
//
// plane rows (forward and backward-input when each output plane reads one input
// plane with its own weights, depthwise; Zhang et al. ICML 2018 with the weights of
// one channel held in registers):
//
//   for c < channels, i < m, j < n, with X = src + c*src_c, W = w + c*w_c:
//     out[c*out_c + i*out_row + j] = (bias ? bias[c*bias_c] : 0)
//         + sum_{t < ntaps, rlo[t] <= i < rhi[t], lo[t] <= j < hi[t]} W[widx[t]] * X[off[t] + i*src_row + j]
//
//   summed in an order fixed by the geometry (tap order, or per tap run then run
//   order on the flat path's runs), so the same for any channel split. X is read
//   only at the (i, j) of the sum (off[t] may be negative where padding makes a tap
//   start before the plane), or, on the flat path's runs, anywhere between the
//   first and the last pixel some tap reads; every out element of the m x n block
//   is written, those no tap reaches with the bias.
//
// channel-vector rows and dots (depthwise with multiplier 1 on small planes: one
// vector holds the same pixel of L = <t>_direct_cvec_lanes channels, so a
// pixel's row of taps is L channels' work with no mask, whatever the stride; the
// driver interleaves a block of L channel planes, zero-padded, into pixels of L
// lanes). Every index below counts pixels, each pixel is L consecutive values:
//
//   rows: for i < m, j < n:
//     out[i*out_row + j*out_col] = (bias ? bias : 0)
//         + sum_{t < ntaps} w[widx[t]] * src[off[t] + i*src_row + j*src_col]
//   dots: for t < ntaps:
//     dw[widx[t]] = sum_{i < m, j < n} src[off[t] + i*src_row + j*src_col] * dy[i*dy_row + j]
//
//   (lane-wise products; bias and each w[k] / dw[k] are one pixel of L lanes).
//   Every src pixel of the sums is read, so the driver pads src to cover them.
//   Sums run in tap order (rows) and pixel order (dots): deterministic.
//
// plane expand (backward-input of depthwise convolutions, and the stride-1 forward
// pass in that form with the rot180 kernel: each output row is a vector of dx, and
// the dy values its lanes need are brought into place by a lane permute of one
// loaded piece of a dy row, so the stride costs no split and no inserted zero; the
// seeds' gather form, Diba eqs. 24-29, with the phases as masks).
// A "group" is a set of kernel columns s whose lanes in a chunk are disjoint and
// whose dy columns fit one loaded vector; member (s, lanes) of a group says which
// lanes take column s, so lane l of group g reads the weight w[r*wcols + s(g, l)]:
//
//   for c < channels, h < m, k < chunks, l in the lanes of store[k]:
//     out[c*out_c + h*out_row + k*L + l] =
//         sum_{e in [row_begin[h], row_begin[h+1]), g in [group_begin[k], group_begin[k+1]), l in col_out[g]}
//             w[c*w_c + row_w[e]*wcols + s(g, l)] * dy[c*dy_c + row_dy[e] + col_dy[g] + col_idx[g*L + l]]
//
//   summed in (e, g) order; a lane no term reaches is 0. dy is read only at the
//   lanes of col_load[g] from dy + c*dy_c + row_dy[e] + col_dy[g]. Lane sets are
//   bit masks (bit l = lane l), so only ISAs whose masks hold any pattern have the
//   kernel (VT::kBits). Limits: row_w < kExpandMaxRows, at most kExpandMaxGroups
//   groups per chunk. pair_rows (stride 2, wrows == 3, no row dilation) and
//   triple_rows (stride 1, the same) take the rows from top, dy_rows and dy_row
//   instead of the row lists (same sums). With bias, every out row starts from
//   bias[c*bias_c] instead of 0 (the forward pass, run in this form).
//
// plane expand dots (backward-weight of the same layers, Diba eq. 15: x correlated
// with the dilated dy; the same lists, with x rows in place of dx rows):
//
//   for c < channels, r < wrows, s < wcols:
//     dw[c*wrows*wcols + r*wcols + s] +=
//         sum_{n < images, h < m, e in [row_begin[h], row_begin[h+1]) with row_w[e] == r,
//              k < chunks, member (g, s) of chunk k's groups, l in its lanes}
//             x[n*x_n + c*x_c + h*x_row + k*L + l] * dy[n*dy_n + c*dy_c + row_dy[e] + col_dy[g] + col_idx[g*L + l]]
//
//   in float vectors over one image, then added lane by lane in double; the lanes
//   of a (r, s) are summed in lane order at the end: deterministic. x is read only
//   at the lanes of store[k].
//
// broadcast rows and dots (grouped convolutions with many channels per group: one
// vector holds L = <t>_direct_bcast_lanes output channels of a group, input
// channels in backward-input, and each input value is broadcast against it, so
// every FMA is a full vector whatever the plane's width; the driver lists output
// pixels and taps as offsets into zero-padded input planes, so stride, dilation
// and backward-input phases are all lists):
//
//   rows: for q < npix:
//     out[ooff[q]*L + l] = (bias ? bias[l] : 0) + sum_{u < ntaps} w[u*L + l] * src[poff[q] + toff[u]]
//   dots: for u < ntaps:
//     dw[u*L + l] = (accumulate ? dw[u*L + l] : 0) + sum_{q < npix} dy[q*L + l] * src[poff[q] + toff[u]]
//
//   Sums run in tap order (rows) and pixel order (dots): deterministic. Every src
//   element of the sums is read, so the driver pads src to cover them.
#pragma once

#include <cstdint>

namespace convbp {

constexpr int kDotLanes = 16;
constexpr int64_t kDotFlush = 4096;

template <typename T>
struct DirectRowsArgs {
  int64_t planes = 1, src_p = 0, w_p = 0, out_p = 0, bias_p = 0;
  int64_t m = 0, n = 0, ntaps = 0;
  const T* const* src = nullptr;
  int64_t src_i = 0;
  const int64_t* lo = nullptr;
  const int64_t* hi = nullptr;
  const T* const* w = nullptr;
  int64_t w_i = 0;
  T* out = nullptr;
  int64_t out_i = 0;
  const T* bias = nullptr;
  int64_t bias_i = 0;
};

template <typename T>
struct DirectDotsArgs {
  int64_t planes = 1, src_p = 0, dy_p = 0;
  int64_t rows = 0, m = 0, n = 0, ntaps = 0;
  const T* const* src = nullptr;
  int64_t src_row = 0;
  const int64_t* lo = nullptr;
  const int64_t* hi = nullptr;
  const T* dy = nullptr;
  int64_t dy_i = 0, dy_row = 0;
  double* const* acc = nullptr;
};

template <typename T>
struct DirectPlaneRowsArgs {
  int64_t channels = 0, src_c = 0, w_c = 0, out_c = 0, bias_c = 0;
  int64_t m = 0, n = 0, ntaps = 0;
  const T* src = nullptr;
  const int64_t* off = nullptr;
  int64_t src_row = 0;
  const int64_t* lo = nullptr;
  const int64_t* hi = nullptr;
  const int64_t* rlo = nullptr;
  const int64_t* rhi = nullptr;
  const T* w = nullptr;
  const int64_t* widx = nullptr;
  const T* bias = nullptr;
  T* out = nullptr;
  int64_t out_row = 0;
};

template <typename T>
struct DirectCvecArgs {
  int64_t m = 0, n = 0, ntaps = 0;
  const int64_t* off = nullptr;
  const int64_t* widx = nullptr;
  const T* src = nullptr;
  int64_t src_row = 0, src_col = 0;
  const T* w = nullptr;     // rows
  const T* bias = nullptr;  // rows, may be null
  T* out = nullptr;         // rows
  int64_t out_row = 0, out_col = 0;
  const T* dy = nullptr;    // dots
  int64_t dy_row = 0;
  T* dw = nullptr;          // dots
};

constexpr int64_t kExpandMaxRows = 16;
constexpr int64_t kExpandMaxGroups = 4;
constexpr int64_t kExpandMaxChunks = 4;  // the route's limit (drivers/direct-depthwise-expand.cpp)

template <typename T>
struct DirectPlaneExpandArgs {
  int64_t channels = 0, dy_c = 0, w_c = 0, out_c = 0;
  const T* dy = nullptr;
  const T* w = nullptr;
  T* out = nullptr;
  int64_t m = 0, out_row = 0, wrows = 0, wcols = 0;
  bool pair_rows = false;    // stride 2, 3 kernel rows, row dilation 1: see the kernel
  bool triple_rows = false;  // stride 1, 3 kernel rows, row dilation 1: see the kernel
  int64_t top = 0, dy_rows = 0, dy_row = 0;
  const T* bias = nullptr;  // rows only, may be null: every out row starts from bias[c*bias_c]
  int64_t bias_c = 0;
  const int64_t* row_begin = nullptr;  // m + 1 entries
  const int64_t* row_dy = nullptr;
  const int64_t* row_w = nullptr;
  int64_t chunks = 0;
  const unsigned* store = nullptr;        // per chunk
  const int64_t* group_begin = nullptr;  // chunks + 1 entries
  const int64_t* col_dy = nullptr;       // per group
  const unsigned* col_load = nullptr;    // per group
  const unsigned* col_out = nullptr;     // per group
  const int32_t* col_idx = nullptr;      // L per group
  const int64_t* member_begin = nullptr; // groups + 1 entries
  const int64_t* member_s = nullptr;
  const unsigned* member_lanes = nullptr;
  // dots only
  const T* x = nullptr;
  int64_t x_c = 0, x_row = 0, x_n = 0, dy_n = 0, images = 0;
  double* dw = nullptr;  // channels x wrows*wcols sums, added to
};

// plane stride-2 rows (forward of depthwise convolutions, multiplier 1, with column
// stride 2 and 3 kernel columns of dilation 1; AVX-512): for c < channels, i < m, j < n,
// with X = src + c*src_c, W = w + c*w_c:
//
//   out[c*out_c + i*out_row + j] = (bias ? bias[c*bias_c] : 0)
//       + sum_{r < rows, s < 3, 0 <= h < H, 0 <= v < W} W[r*3 + s] * X[h*src_row + v]
//         with h = i*sh + r*dh - top, v = 2*j + s - left
//
// in an order fixed by the geometry. X is read only inside its H rows (src_row == W:
// the plane's H*W elements); at most kPlaneS2MaxVectors vectors of outputs a row.
constexpr int64_t kPlaneS2MaxRows = 5;
constexpr int64_t kPlaneS2MaxVectors = 32;

template <typename T>
struct DirectPlaneS2Args {
  int64_t channels = 0, src_c = 0, w_c = 0, out_c = 0, bias_c = 0;
  int64_t m = 0, n = 0, out_row = 0;
  int64_t H = 0, W = 0, src_row = 0;
  int64_t rows = 0, sh = 1, dh = 1, top = 0, left = 0;
  const T* src = nullptr;
  const T* w = nullptr;
  const T* bias = nullptr;
  T* out = nullptr;
};

template <typename T>
struct DirectBcastArgs {
  int64_t npix = 0, ntaps = 0;
  const int64_t* poff = nullptr;  // per pixel: its first input element
  const int64_t* toff = nullptr;  // per tap: added to poff
  const T* src = nullptr;
  const T* w = nullptr;           // rows: ntaps x L
  const T* bias = nullptr;        // rows: L, may be null
  const int64_t* ooff = nullptr;  // rows: per pixel, its L-lane slot of out
  T* out = nullptr;               // rows
  // optional: when run > 0, the pixels come in runs of `run` (npix a multiple
  // of it: the output rows) with poff[q + 1] = poff[q] + run_step inside a run;
  // the kernels may then address a run's inputs from its first pixel.
  int64_t run = 0, run_step = 0;
  // optional: when tap_run > 0, the taps come in runs of tap_run (ntaps a
  // multiple of it) with toff[u + 1] = toff[u] + 1 inside a run.
  int64_t tap_run = 0;
  const T* dy = nullptr;          // dots: npix x L
  T* dw = nullptr;                // dots: ntaps x L
  bool accumulate = false;        // dots: add to dw (else overwrite it)
};

template <typename T>
struct DirectPlaneDotsArgs {
  int64_t channels = 0, src_c = 0, dy_c = 0, out_c = 0;
  int64_t planes = 1, src_p = 0, dy_p = 0;
  int64_t n = 0, ntaps = 0;
  const T* src = nullptr;
  const int64_t* off = nullptr;
  int64_t src_row = 0;
  const int64_t* lo = nullptr;
  const int64_t* hi = nullptr;
  const int64_t* rlo = nullptr;
  const int64_t* rhi = nullptr;
  const T* dy = nullptr;
  int64_t dy_row = 0;
  T* out = nullptr;
  bool accumulate = false;
};

}  // namespace convbp
