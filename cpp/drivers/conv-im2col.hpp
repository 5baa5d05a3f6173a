// Shared pieces of the im2col + GEMM route (conv-im2col*.cpp): the kernel and
// blocking a product runs with, how its output is cut into parallel items,
// per-thread scratch, and packing rows of phi(x) through a plan.
//
// Two layouts of the same products exist for forward and bwd_data:
//   channels-major: C = (channels) x (pixels): W is the A operand (packed once),
//     phi(x) / dy the B operand (packed per pixel tile, runs up to NR long);
//   pixels-major: C^T = (pixels) x (channels): phi(x)^T / dy^T is A (runs up to
//     MR long), W^T / W is B (packed once); the result is transposed back.
// Pixels-major wastes nothing on pixel counts that are no multiple of NR (a
// 7x7 layer: 49*N pixels) and fits channel counts (multiples of 32 or 64) to
// the NR side; channels-major packs more cheaply. Layout::Auto picks per call.
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

  // Splits an M x cols output (per group, `groups` of them) into items of
  // mb rows x tn columns: tn at most nc (a multiple of NR), mb at most `mb_max`
  // (a multiple of MR). With fewer than ~4 items per thread it splits the rows
  // first (down to 64; each row block repacks the same B tile, which costs
  // 1/(2*mb) of the GEMM) and narrows the tiles only after (down to 2 NR; narrow
  // tiles reuse each A micro-panel less).
  void items(int64_t M, int64_t cols, int64_t groups, int64_t mb_max, int64_t& mb, int64_t& tn) const {
    const int mr = uk.mr, nr = uk.nr;
    const int64_t want = 4 * int64_t(nt);
    tn = std::min(bl.nc, round_up(cols, nr));
    mb = std::min(round_up(M, mr), std::max<int64_t>(mr, mb_max / mr * mr));
    auto count = [&] { return groups * cdiv(cols, tn) * cdiv(M, mb); };
    if (count() < want) {
      const int64_t nmb = std::min(cdiv(M, 64), cdiv(want, groups * cdiv(cols, tn)));
      if (nmb > cdiv(M, mb)) mb = round_up(cdiv(M, nmb), mr);
    }
    if (count() < want) {
      const int64_t ntile = cdiv(want, groups * cdiv(M, mb));
      tn = std::clamp<int64_t>(round_up(cdiv(cols, ntile), nr), std::min<int64_t>(tn, 2 * nr), tn);
    }
    if (count() < nt) mb = round_up(cdiv(M, cdiv(int64_t(nt), groups * cdiv(cols, tn))), mr);
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

enum class Layout { Auto, ChannelsMajor, PixelsMajor };

// CONVBP_IM2COL_LAYOUT=channels|pixels forces one layout (tests cover both
// with it; tuning); anything else, or unset, is Auto. Read on every call.
inline Layout forced_layout() {
  const char* v = std::getenv("CONVBP_IM2COL_LAYOUT");
  if (!v) return Layout::Auto;
  if (std::strcmp(v, "channels") == 0) return Layout::ChannelsMajor;
  if (std::strcmp(v, "pixels") == 0) return Layout::PixelsMajor;
  return Layout::Auto;
}

// Auto: the layout with the least estimated work: the padded GEMM (rows and
// columns rounded up to each layout's MR and NR) times 1 + (packing cost), the
// packing of the per-tile operand costing about 3 (channels-major, NR-long
// runs) or 8 (pixels-major, MR-long runs) FMA-equivalents per element, spread
// over the `channels` multiply-adds each packed element feeds.
template <typename T>
Layout choose_layout(int64_t channels, int64_t pixels) {
  const Layout f = forced_layout();
  if (f != Layout::Auto) return f;
  const KernelTable& kt = kernel_table();
  const GemmUkernel<T>& cn = kt.gemm_for<T>(pixels);
  const GemmUkernel<T>& pn = kt.gemm_for<T>(channels);
  // Packing per element in FMA-equivalents (measured: NR-long runs ~3, MR-long ~8).
  const double ch = double(channels);
  const double w_cm = double(round_up(channels, cn.mr)) * double(round_up(pixels, cn.nr)) * (1.0 + 3.0 / ch);
  const double w_pm = double(round_up(pixels, pn.mr)) * double(round_up(channels, pn.nr)) * (1.0 + 8.0 / ch);
  return w_pm < w_cm ? Layout::PixelsMajor : Layout::ChannelsMajor;
}

template <typename T>
void forward(const ConvParams& p, const T* x, const T* w, const T* bias, T* y);
template <typename T>
void backward_input(const ConvParams& p, const T* dy, const T* w, T* dx);
template <typename T>
void backward_weight(const ConvParams& p, const T* x, const T* dy, T* dw);

}  // namespace im2col
}  // namespace convbp
