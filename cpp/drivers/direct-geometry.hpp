// Index arithmetic of the direct route: which input column and row each tap of
// the kernel reads for a row of outputs, and over which output range it is valid.
// Strides, dilations and paddings all end here, as offsets and ranges, so the
// micro-kernels (kernels/direct-args.hpp) only ever see contiguous rows.
#pragma once

#include <cstdint>
#include <vector>

#include "convbp/params.hpp"
#include "dispatch/kernel-table.hpp"

namespace convbp::direct {

// Non-negative remainder, b > 0.
inline int64_t mod(int64_t a, int64_t b) {
  const int64_t r = a % b;
  return r < 0 ? r + b : r;
}

// Where the input planes of a forward-form pass live: x itself when the column
// stride sw is 1, else a copy whose columns are split by phase: plane z, phase f,
// row h, column i holds x[z, h, f + i*sw]. Then the input columns q*sw + o read by
// output columns q are the contiguous run phase mod(o, sw), columns q + floor(o / sw).
struct SplitGeom {
  bool copy = false;  // sw > 1
  int64_t pitch = 0;  // elements per row (W, or ceil(W / sw))
  int64_t phase = 0;  // elements per phase (H * pitch)
  int64_t plane = 0;  // elements per plane (sw * phase)
  int64_t in_plane = 0;        // elements per plane of x (H * W)
  std::vector<CopyRun> runs;   // one plane's copy plan: a strided run per (phase, row)
};
SplitGeom split_geom(const ConvParams& p);
// Copies `count` consecutive NCHW planes starting at x into `out` (g.plane each)
// with the ISA's copy_runs kernel (stride-2 runs load vector pairs and keep the
// even lanes). Columns past a phase's own width are left unwritten: no tap reads them.
template <typename T>
void split_planes(const KernelTable& kt, const SplitGeom& g, const T* x, int64_t count, T* out);

// The inverse for one row of `cols` columns: out[j*sw + f] = src[f*phase_stride + j]
// for every column j*sw + f < cols (phase f holds the columns f, f + sw, ...).
template <typename T>
void merge_phases(const T* src, int64_t phase_stride, int64_t sw, int64_t cols, T* out);

// Tap s of a forward-form row (forward, backward-weight): output columns q in
// [lo, hi) read the input at column offset `offset` from the row's start in a
// SplitInput (the phase included): x column q*sw + s*dw - left.
struct ColTap {
  int64_t offset = 0, lo = 0, hi = 0;
};
std::vector<ColTap> forward_col_taps(const ConvParams& p, int64_t phase_stride);

// A run [a, b) of output rows in which the same kernel rows r are valid.
struct RowRun {
  int64_t a = 0, b = 0;
  std::vector<int64_t> rs;
};
// Splits [0, n) into runs by the valid range [lo[r], hi[r]) of each kernel row r
// (at most 2R + 1 runs; a row no r reaches forms a run with empty rs).
std::vector<RowRun> row_runs(const std::vector<int64_t>& lo, const std::vector<int64_t>& hi, int64_t n);
// Forward-form rows: kernel row r reaches output rows [lo, hi) (input row p*sh + r*dh - top).
std::vector<RowRun> forward_row_runs(const ConvParams& p);

// Backward-input in the gather form (seeds: dx is the full correlation of the
// stride-dilated dy with rot180(w)). For the outputs h = phase + sh*i of one phase,
// dx[h] = sum over kernel rows r with (phase + top - r*dh) divisible by sh of
// w[r] * dy[base + i], base = (phase + top - r*dh) / sh: the taps that would land on
// inserted zeros are exactly those left out, so none is multiplied.
struct PhaseTap {
  int64_t base = 0, lo = 0, hi = 0;  // reaches i in [lo, hi); lo == hi: never
};
// For outputs phase + stride*i, i < count(size, stride, phase), of a dimension
// with `size` inputs, `out` outputs, padding `pad_before`, dilation `dil`, k taps.
std::vector<PhaseTap> phase_taps(int64_t phase, int64_t stride, int64_t dil, int64_t pad_before, int64_t k,
                                 int64_t size, int64_t out);
// Number of indices phase + stride*i below size.
inline int64_t phase_count(int64_t size, int64_t stride, int64_t phase) {
  return phase < size ? (size - phase + stride - 1) / stride : 0;
}

// Backward-input pixel-phase plan (both spatial dimensions) for kernels that read
// dy from a zero-padded buffer: phase (fh, fw) holds the dx pixels (fh + sh*i,
// fw + sw*j), i < rows, j < cols, and its taps, kernel tap rs = r*S + s reading dy
// row rbase + i, column cbase + j (taps landing on no dy entry of the phase are
// left out). Over all phases those reads span dy rows [rmin, rmax] and columns
// [cmin, cmax] (which include every real dy row and column).
struct PixelPhase {
  int64_t fh = 0, fw = 0, rows = 0, cols = 0;
  std::vector<int64_t> rbase, cbase, rs;
};
struct PixelPhases {
  std::vector<PixelPhase> phases;
  int64_t rmin = 0, rmax = 0, cmin = 0, cmax = 0;
  int64_t buffer_rows() const { return rmax - rmin + 1; }
  int64_t buffer_cols() const { return cmax - cmin + 1; }
};
PixelPhases pixel_phases(const ConvParams& p);

// Tasks over (image, block of channels) for depthwise kernels that write whole
// planes of `plane` outputs: equal blocks of about 16384 outputs, at least one task
// per thread. Task t is image t / cblocks, channels from t % cblocks * cb.
struct ChannelSplit {
  int64_t cb = 1, cblocks = 1;
};
ChannelSplit split_channels(int64_t N, int64_t C, int64_t plane);

}  // namespace convbp::direct
