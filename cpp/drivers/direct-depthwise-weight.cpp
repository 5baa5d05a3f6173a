// Backward-weight of the direct route when every group has one input channel and
// few output channels (depthwise convolutions, channel multiplier Kg <= 4):
//
//   dw[k,0,r,s] = sum_{n,p,q} dy[n,k,p,q] x[n,g(k), p*sh + r*dh - top, q*sw + s*dw - left]
//
// (Diba eq. 15: x correlated with the stride-dilated dy). Here no input vector is
// shared between weights (each dw plane has its own x plane), so the general dots
// kernel's register tile (several dy rows sharing each x vector) has nothing to
// share; the plane-dots kernel instead holds all R*S taps of one channel in
// registers over the channel's whole sum. The driver only turns the geometry into
// taps (an offset, a row range, a column range per (r, s)) and splits the groups
// into tasks: each task owns whole dw planes, so the result does not depend on the
// thread count's partition beyond which thread computes a plane.
#include <algorithm>
#include <vector>

#include "drivers/conv-direct.hpp"
#include "drivers/direct-geometry.hpp"
#include "drivers/parallel.hpp"
#include "drivers/workspace.hpp"

namespace convbp::direct {

namespace {

// FMAs one task aims for, and the input elements one split-phase copy may hold.
constexpr int64_t kTaskWork = int64_t(1) << 17;
constexpr int64_t kSplitElems = int64_t(1) << 16;

}  // namespace

bool plane_dots_fits(const ConvParams& p) { return p.Cg() == 1 && p.Kg() <= 4; }

template <typename T>
void backward_weight_planes(const KernelTable& kt, const ConvParams& p, const T* x, const T* dy, T* dw) {
  const auto plane_dots = kt.direct<T>().plane_dots;
  const int64_t P = p.P(), Q = p.Q(), Kg = p.Kg(), RS = p.R * p.S, G = p.groups, N = p.N;
  const int64_t HW = p.H * p.W, PQ = P * Q;
  const SplitGeom sg = split_geom(p);
  const std::vector<ColTap> cols = forward_col_taps(p, sg.copy ? sg.phase : 0);
  const int64_t pitch = sg.copy ? sg.pitch : p.W, plane = sg.copy ? sg.plane : HW;
  // Tap (r, s): input row p*sh + r*dh - top of output row p, column offset of ColTap s.
  const size_t ntaps = static_cast<size_t>(RS);
  std::vector<int64_t> off(ntaps), lo(ntaps), hi(ntaps), rlo(ntaps), rhi(ntaps);
  for (int64_t r = 0; r < p.R; ++r) {
    int64_t a, b;
    valid_range(r * p.dil_h - p.pad_top, p.stride_h, p.H, P, a, b);
    for (int64_t s = 0; s < p.S; ++s) {
      const size_t t = size_t(r * p.S + s);
      off[t] = (r * p.dil_h - p.pad_top) * pitch + cols[size_t(s)].offset;
      lo[t] = cols[size_t(s)].lo;
      hi[t] = cols[size_t(s)].hi;
      rlo[t] = a;
      rhi[t] = b;
    }
  }
  DirectPlaneDotsArgs<T> base;
  base.out_c = RS;
  base.n = Q;
  base.ntaps = RS;
  base.off = off.data();
  base.src_row = p.stride_h * pitch;
  base.lo = lo.data();
  base.hi = hi.data();
  base.rlo = rlo.data();
  base.rhi = rhi.data();
  base.dy_c = PQ;
  base.dy_p = p.K * PQ;
  base.dy_row = Q;
  // Tasks: equal blocks of groups, at least one per thread, about kTaskWork FMAs each.
  const int64_t nt = num_threads();
  const int64_t work = std::max<int64_t>(1, G * Kg * RS * N * PQ);
  int64_t tasks = std::min(G, std::max(nt, (work + kTaskWork - 1) / kTaskWork));
  tasks = std::min(G, (tasks + nt - 1) / nt * nt);
  const int64_t gb = (G + tasks - 1) / tasks;
  parallel_for((G + gb - 1) / gb, [&](int64_t task) {
    const int64_t g0 = task * gb, gn = std::min(gb, G - g0);
    DirectPlaneDotsArgs<T> a = base;
    if (!sg.copy) {  // x read in place: a call covers gn groups (Kg == 1) or one group
      a.planes = N;
      a.src_p = p.C * HW;
      const int64_t calls = Kg == 1 ? 1 : gn;
      for (int64_t g = g0; g < g0 + calls; ++g) {
        a.channels = Kg == 1 ? gn : Kg;
        a.src = x + g * HW;
        a.src_c = Kg == 1 ? HW : 0;
        a.dy = dy + g * Kg * PQ;
        a.out = dw + g * Kg * RS;
        plane_dots(a);
      }
      return;
    }
    // sw > 1: the planes are split by column phase first, for a block of cb groups
    // (Kg == 1: one call covers them) and a batch of NB images at a time, the
    // batches' sums added in order.
    const int64_t cb = Kg == 1 ? std::max<int64_t>(1, std::min(gn, kSplitElems / std::max<int64_t>(1, plane))) : 1;
    const int64_t NB = std::max<int64_t>(1, std::min(N, kSplitElems / std::max<int64_t>(1, cb * plane)));
    T* buf = thread_scratch<T>(NB * cb * plane);
    a.src = buf;
    a.src_c = Kg == 1 ? plane : 0;
    for (int64_t g = g0; g < g0 + gn; g += cb) {
      const int64_t gc = std::min(cb, g0 + gn - g);
      a.channels = Kg == 1 ? gc : Kg;
      a.src_p = gc * plane;
      for (int64_t n0 = 0; n0 < N; n0 += NB) {
        const int64_t nn = std::min(NB, N - n0);
        for (int64_t z = 0; z < nn; ++z) split_planes(kt, sg, x + (n0 + z) * p.C * HW + g * HW, gc, buf + z * gc * plane);
        a.planes = nn;
        a.dy = dy + (n0 * p.K + g * Kg) * PQ;
        a.out = dw + g * Kg * RS;
        a.accumulate = n0 > 0;
        plane_dots(a);
      }
    }
  });
}

template void backward_weight_planes<float>(const KernelTable&, const ConvParams&, const float*, const float*, float*);
template void backward_weight_planes<double>(const KernelTable&, const ConvParams&, const double*, const double*,
                                             double*);

}  // namespace convbp::direct
