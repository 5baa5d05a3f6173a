// Shared pieces of the im2col + GEMM route (conv-im2col*.cpp): the kernel and
// blocking a product runs with, how its output is cut into parallel items,
// per-thread scratch, and packing rows of phi(x) through a plan.
//
// Three layouts of the same products exist for forward and bwd_data:
//   channels-major: C = (channels) x (pixels): W is the A operand (packed once),
//     phi(x) / dy the B operand (packed per pixel tile, runs up to NR long);
//   pixels-major: C^T = (pixels) x (channels): phi(x)^T / dy^T is A (runs up to
//     MR long), W^T / W is B (packed once); the result is transposed back.
//   batch lanes (forward, and bwd_data at stride 1; conv-im2col-lanes.cpp):
//     pixels-major with MR images of one output pixel in each A micro-panel,
//     read in place from a rearranged copy of the input, and the taps that
//     fall in the padding skipped.
// Pixels-major wastes nothing on pixel counts that are no multiple of NR (a
// 7x7 layer: 49*N pixels) and fits channel counts (multiples of 32 or 64) to
// the NR side; channels-major packs more cheaply; batch lanes packs nothing
// per tile (one rearrangement of each block of MR images) and saves the
// padding's share of the work (18% on 7x7 planes) where the batch fills MR.
// Layout::Auto picks per call (use_lanes, then choose_layout).
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "convbp/conv.hpp"
#include "dispatch/cache-sizes.hpp"
#include "dispatch/kernel-table.hpp"
#include "drivers/gemm.hpp"
#include "drivers/im2col-pack.hpp"
#include "drivers/parallel.hpp"
#include "drivers/workspace.hpp"

namespace convbp {
namespace im2col {

inline int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The micro-kernel for products with n columns (the tile that pads n least),
// its blocking, and the machine facts the items are sized by.
template <typename T>
struct Gemm {
  const GemmUkernel<T>& uk;
  GemmBlocking bl;
  int64_t l2 = cache_sizes().l2;
  int nt = num_threads();

  explicit Gemm(int64_t n) : uk(kernel_table().gemm_for<T>(n)), bl(gemm_blocking(uk)) {}
};

// The pixel dimension (all `pixels` output pixels of the batch, per group) cut
// into `count` tiles of consecutive micro-panels of `w` pixels (the MR or NR
// side the pixels fill), at least enough that a tile has at most `max_panels`
// panels; the rows (channels) cut into `row_parts` parts. Tile t holds panels
// [panels*t/count, panels*(t+1)/count), so tile sizes differ by at most one
// panel. Items run part-major (item = (group, part, tile)), so static
// scheduling hands each thread whole parts.
//
// When groups < nt the threads share groups, and each way of sharing costs
// work a single thread would not do. Where the items pack their pixel operand
// (`repack`: the channels- and pixels-major layouts), a row part beyond the
// first packs it again, about 4x the cost per element of the other
// redundancy (fitted on mobilenet.pw13 at 16 threads): a tile beyond those the
// cache asks for streams the item's rows of W_g again. The split taken has
// the least (row_parts - 1)*pixels*4 + (extra tiles)*rows, counted in units
// of the depth, times the imbalance of static scheduling (items rounded up to
// a multiple of nt). Before, rows that outnumbered the pixels were split
// first, as the batch-lanes layout still does. The work of a 16-thread split
// over that of a 2-thread one, both run on one thread (batch 8,
// benchmarks/partition_work.py, medians of 5): resnet.l4.down fwd
// (pixels-major, stride 2) 2.88x -> 1.18x, mobilenet.pw13 / pw12 fwd 1.43x /
// 1.41x -> 1.04x / 1.03x.
struct PixelTiles {
  int64_t pixels, w, panels, count, row_parts;
  PixelTiles(int64_t pixels_, int w_, int64_t max_panels, int64_t groups, int64_t rows, int rows_unit, int nt,
             bool repack)
      : pixels(pixels_), w(w_) {
    panels = cdiv(pixels, w);
    const int64_t min_count = std::min(panels, cdiv(panels, std::max<int64_t>(1, max_panels)));
    count = min_count;
    row_parts = 1;
    if (groups >= nt) return;
    const int64_t units = cdiv(rows, rows_unit);
    if (!repack) {
      // No packing per item (the batch-lanes layout): the rows are split when
      // they outnumber the pixels (W_g, rows x depth, is then the larger operand
      // that every tile streams: resnet.l4.3x3s2 fwd at 2 threads took 1.2x as
      // long with two tiles of all the rows as with two row halves), else tiles.
      if (rows > pixels && units >= nt / groups) {
        row_parts = std::min(units, cdiv(int64_t(nt), groups));
        return;
      }
      count = std::min(panels, cdiv(round_up(groups * count, nt), groups));
      row_parts = groups * count >= nt ? 1 : std::min(units, cdiv(int64_t(nt), groups * count));
      return;
    }
    const int64_t pack = 4;
    double best = -1;
    for (int64_t q = 1; q <= std::min<int64_t>(units, nt); ++q) {
      // The fewest tiles (>= min_count) that make the items a multiple of nt,
      // or all the panels when even those leave threads idle.
      int64_t c = std::max(min_count, cdiv(round_up(groups * q * min_count, nt), groups * q));
      for (; c < panels && (groups * q * c) % nt != 0; ++c) {}
      c = std::min(c, panels);
      const int64_t items = groups * q * c;
      const double imbalance = double(cdiv(items, nt) * nt) / double(items);
      const double work = double(pixels) * double(rows) + double((q - 1) * pixels * pack) +
                          double((c - min_count) * rows);
      const double cost = work * imbalance;
      if (best < 0 || cost < best) {
        best = cost;
        count = c;
        row_parts = q;
      }
    }
  }
  // Item i: group, tile t, row part r.
  void item(int64_t i, int64_t& g, int64_t& t, int64_t& r) const {
    g = i / (count * row_parts);
    r = i / count % row_parts;
    t = i % count;
  }
  int64_t items(int64_t groups) const { return groups * count * row_parts; }
  // Pixels [j0, j0 + n) of tile t.
  void tile(int64_t t, int64_t& j0, int64_t& n) const {
    j0 = panels * t / count * w;
    n = std::min(pixels, panels * (t + 1) / count * w) - j0;
  }
  // Rows [m0, m0 + m) of row part r (multiples of `unit` but for the last).
  void rows_of(int64_t r, int64_t rows, int unit, int64_t& m0, int64_t& m) const {
    const int64_t units = cdiv(rows, unit);
    m0 = units * r / row_parts * unit;
    m = std::min(rows, units * (r + 1) / row_parts * unit) - m0;
  }
};

// Per-thread scratch, allocated before the parallel region.
template <typename T>
struct Scratch {
  AlignedBuffer<T> a, b, c;
  Plan plan, plan2;
};

template <typename T>
std::vector<Scratch<T>> scratch(int nt, int64_t a, int64_t b, int64_t c) {
  std::vector<Scratch<T>> s(nt);
  for (auto& x : s) {
    x.a.reset(a);
    x.b.reset(b);
    x.c.reset(c);
  }
  return s;
}

// Packs rows [t0, t0 + kc) of phi(x) (group g) for the tile the plan was built
// for: row t = (c, tap) runs the tap's group from channel c into dst + pl*row_stride.
template <typename T>
inline void pack_phi(const MoveKernels<T>& mv, const ConvParams& p, int64_t g, const T* x, int64_t t0, int64_t kc,
              const Plan& plan, int64_t row_stride, T* dst) {
  const int64_t RS = p.R * p.S, HW = p.H * p.W;
  int64_t c = t0 / RS, rs = t0 % RS;
  for (int64_t pl = 0; pl < kc; ++pl) {
    mv.copy_runs(plan.group(rs), plan.size(rs), x + (g * p.Cg() + c) * HW, dst + pl * row_stride);
    if (++rs == RS) { rs = 0; ++c; }
  }
}

enum class Layout { Auto, ChannelsMajor, PixelsMajor, BatchLanes };

// CONVBP_IM2COL_LAYOUT=channels|pixels|lanes forces one layout (tests cover each
// with it; tuning); anything else, or unset, is Auto. Read on every call.
inline Layout forced_layout() {
  const char* v = std::getenv("CONVBP_IM2COL_LAYOUT");
  if (!v) return Layout::Auto;
  if (std::strcmp(v, "channels") == 0) return Layout::ChannelsMajor;
  if (std::strcmp(v, "pixels") == 0) return Layout::PixelsMajor;
  if (std::strcmp(v, "lanes") == 0) return Layout::BatchLanes;
  return Layout::Auto;
}

// Auto: the layout with the least estimated work: the padded GEMM (rows and
// columns rounded up to each layout's MR and NR) times 1 + (overheads), in
// FMA-equivalents per multiply-add of the GEMM: packing the per-tile operand
// (pixels x depth, once per pass) costs about 3 per element in channels-major
// (NR-long runs) and 16 in pixels-major (MR-long runs, and its narrow kernel),
// spread over the `channels` multiply-adds each packed element feeds; pixels-major
// also transposes its C tile, about 8 per element, spread over the `depth`.
// Calibrated on the 512-channel VGG / ResNet layers (batch 8, 1 thread): it
// picks the faster layout on all of fwd and bwd_data of resnet.l3/l4 3x3,
// l4.3x3s2 and vgg11.c7, where the old model (3 vs 8, no transpose term) chose
// pixels-major for c7 fwd and l3/c7 bwd_data, 5-7% slower.
template <typename T>
Layout choose_layout(int64_t channels, int64_t pixels, int64_t depth) {
  const Layout f = forced_layout();
  if (f == Layout::ChannelsMajor || f == Layout::PixelsMajor) return f;
  const KernelTable& kt = kernel_table();
  const GemmUkernel<T>& cn = kt.gemm_for<T>(pixels);
  const GemmUkernel<T>& pn = kt.gemm_for<T>(channels);
  const double ch = double(channels), d = double(std::max<int64_t>(depth, 1));
  const double w_cm = double(round_up(channels, cn.mr)) * double(round_up(pixels, cn.nr)) * (1.0 + 3.0 / ch);
  const double w_pm =
      double(round_up(pixels, pn.mr)) * double(round_up(channels, pn.nr)) * (1.0 + 16.0 / ch + 8.0 / d);
  return w_pm < w_cm ? Layout::PixelsMajor : Layout::ChannelsMajor;
}

// The batch-lanes layout (conv-im2col-lanes.cpp): forward, and bwd_data when
// the stride is 1. use_lanes: forced, or chosen by the rule there (mr: the
// micro-kernel's rows, sz: the element size).
bool use_lanes(const ConvParams& p, bool backward, int mr, int sz);
template <typename T>
void forward_lanes(const ConvParams& p, const T* x, const T* w, const T* bias, T* y);
template <typename T>
void backward_input_lanes(const ConvParams& p, const T* dy, const T* w, T* dx);

// The layout forward (backward = false) or bwd_data runs in: batch lanes where
// use_lanes takes it, else choose_layout's pick. One place, so explain() names
// the layout the pass really runs.
template <typename T>
Layout layout_for(const ConvParams& p, bool backward) {
  const int64_t pixels = p.N * p.P() * p.Q(), RS = p.R * p.S;
  const GemmUkernel<T>& uk = kernel_table().gemm_for<T>(backward ? p.Cg() : p.Kg());
  if (use_lanes(p, backward, uk.mr, int(sizeof(T)))) return Layout::BatchLanes;
  return backward ? choose_layout<T>(p.Cg() * RS, pixels, p.Kg()) : choose_layout<T>(p.Kg(), pixels, p.Cg() * RS);
}

template <typename T>
void forward(const ConvParams& p, const T* x, const T* w, const T* bias, T* y);
template <typename T>
void backward_input(const ConvParams& p, const T* dy, const T* w, T* dx);
template <typename T>
void backward_weight(const ConvParams& p, const T* x, const T* dy, T* dw);

}  // namespace im2col
}  // namespace convbp
