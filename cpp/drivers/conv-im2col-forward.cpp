// The forward pass of the im2col route: y_g = W_g phi(x) + bias (Xu, seed 002:
// O_f = phi(I) F_f), in either layout (conv-im2col.hpp).
#include "drivers/conv-im2col.hpp"

namespace convbp {
namespace im2col {

namespace {

// Channels-major: y_g = W_g phi(x) + bias. Items are (group, pixel tile, part
// of the output channels; one part unless the output is tiny). Each block of
// phi(x) rows of a tile is packed once and multiplied by every row of W_g (the
// C tile holds all the item's channels), so phi(x) is packed exactly once per
// pass (it was once per block of 272 channels: twice on 512-channel layers).
// The bias is the C tile's starting value, so it rides along the GEMM.
template <typename T>
void forward_cm(const ConvParams& p, const T* x, const T* w, const T* bias, T* y) {
  const Gemm<T> G(p.N * p.P() * p.Q());
  const MoveKernels<T>& mv = kernel_table().move<T>();
  const int mr = G.uk.mr, nr = G.uk.nr;
  const int64_t Kg = p.Kg(), Cg = p.Cg(), Kd = Cg * p.R * p.S, PQ = p.P() * p.Q(), cols = p.N * PQ, sz = sizeof(T);
  const int64_t kc = std::min(G.bl.kc, Kd), nkb = cdiv(Kd, kc), Mpad = round_up(Kg, mr);
  const bool pointwise = is_pointwise(p);
  // Tiles: the C tile (Kg x tn) and one packed block of phi (kc x tn) in 3/4 of L2.
  const int64_t max_panels = std::min(G.bl.nc / nr, 3 * G.l2 / 4 / ((Mpad + kc) * sz * nr));
  const PixelTiles pt(cols, nr, max_panels, p.groups, Kg, mr, G.nt, true);
  const int64_t tn = std::min(round_up(cols, nr), cdiv(pt.panels, pt.count) * nr);

  // W_g as A panels, one block per depth block of kc.
  AlignedBuffer<T> wp(p.groups * nkb * Mpad * kc);
  parallel_for(p.groups * nkb, [&](int64_t gb) {
    const int64_t g = gb / nkb, b = gb % nkb, pc = b * kc;
    pack_a(mr, false, w + g * Kg * Kd + pc, Kd, Kg, std::min(kc, Kd - pc), wp.data() + gb * Mpad * kc);
  });

  auto ws = scratch<T>(G.nt, 0, kc * tn, Mpad * tn);
  parallel_for(pt.items(p.groups), [&](int64_t item) {
    Scratch<T>& s = ws[omp_get_thread_num()];
    int64_t g, t, r, j0, n, m0, m;
    pt.item(item, g, t, r);
    pt.tile(t, j0, n);
    pt.rows_of(r, Kg, mr, m0, m);
    T* C = s.c.data();
    if (bias)
      for (int64_t i = 0; i < m; ++i) std::fill(C + i * tn, C + i * tn + n, bias[g * Kg + m0 + i]);
    int64_t planned_kc = -1;
    for (int64_t b = 0; b < nkb; ++b) {
      const int64_t pc = b * kc, k = std::min(kc, Kd - pc);
      if (k != planned_kc) {  // panel offsets depend on the block depth
        if (pointwise) plan_gather(j0, n, PQ, p.C * PQ, nr, k, s.plan);
        else plan_im2col(p, j0, n, nr, k, s.plan);
        planned_kc = k;
      }
      if (pointwise)
        for (int64_t pl = 0; pl < k; ++pl)
          mv.copy_runs(s.plan.group(0), s.plan.size(0), x + (g * Cg + pc + pl) * PQ, s.b.data() + pl * nr);
      else
        pack_phi(mv, p, g, x, pc, k, s.plan, nr, s.b.data());
      macro_kernel(G.uk, m, n, k, wp.data() + (g * nkb + b) * Mpad * kc + m0 * k, s.b.data(), C, tn,
                   b > 0 || bias != nullptr);
    }
    plan_scatter(j0, n, PQ, p.K * PQ, s.plan2);
    for (int64_t i = 0; i < m; ++i)
      mv.copy_runs(s.plan2.group(0), s.plan2.size(0), C + i * tn, y + (g * Kg + m0 + i) * PQ);
  });
}

// Pixels-major: y_g^T = phi(x)^T W_g^T + bias. Items are (group, pixel block,
// part of the output channels; one part unless the output is tiny): A =
// phi(x)^T panels of MR pixels, each depth block packed once per item and
// multiplied by all the item's channels, nc at a time; B = W_g^T panels,
// packed once; the C tile (pixels x channels) is transposed into y.
template <typename T>
void forward_pm(const ConvParams& p, const T* x, const T* w, const T* bias, T* y) {
  const Gemm<T> G(p.Kg());
  const MoveKernels<T>& mv = kernel_table().move<T>();
  const int mr = G.uk.mr, nr = G.uk.nr;
  const int64_t Kg = p.Kg(), Cg = p.Cg(), Kd = Cg * p.R * p.S, PQ = p.P() * p.Q(), pixels = p.N * PQ;
  const int64_t kc = std::min(G.bl.kc, Kd), nkb = cdiv(Kd, kc), Npad = round_up(Kg, nr), sz = sizeof(T);
  const bool pointwise = is_pointwise(p);
  // Pixel blocks: the C tile (tm x Npad) and the packed A block (tm x kc) in half of L2.
  const int64_t max_panels = std::clamp<int64_t>(G.l2 / 2 / ((Npad + kc) * sz * mr), 1, 1024 / mr);
  const PixelTiles pt(pixels, mr, max_panels, p.groups, Kg, nr, G.nt, true);
  const int64_t tm = cdiv(pt.panels, pt.count) * mr;

  // W_g^T as B panels: op(B)(t, k) = W_g[k, t], one block per depth block.
  AlignedBuffer<T> wp(p.groups * nkb * Npad * kc);
  parallel_for(p.groups * nkb, [&](int64_t gb) {
    const int64_t g = gb / nkb, pc = gb % nkb * kc;
    pack_b(nr, true, w + g * Kg * Kd + pc, Kd, std::min(kc, Kd - pc), Kg, wp.data() + gb * Npad * kc);
  });

  auto ws = scratch<T>(G.nt, tm * kc, 0, tm * Npad);
  parallel_for(pt.items(p.groups), [&](int64_t item) {
    Scratch<T>& s = ws[omp_get_thread_num()];
    int64_t g, t, r, i0, m, n0, nch;
    pt.item(item, g, t, r);
    pt.tile(t, i0, m);
    pt.rows_of(r, Kg, nr, n0, nch);
    T* C = s.c.data();
    if (bias)
      for (int64_t i = 0; i < m; ++i) std::memcpy(C + i * Npad, bias + g * Kg + n0, size_t(nch) * sizeof(T));
    int64_t planned_kc = -1;
    for (int64_t b = 0; b < nkb; ++b) {
      const int64_t pc = b * kc, k = std::min(kc, Kd - pc);
      if (k != planned_kc) {  // panel offsets depend on the block depth
        if (pointwise) plan_gather(i0, m, PQ, p.C * PQ, mr, k, s.plan);
        else plan_im2col(p, i0, m, mr, k, s.plan);
        planned_kc = k;
      }
      if (pointwise)
        for (int64_t pl = 0; pl < k; ++pl)
          mv.copy_runs(s.plan.group(0), s.plan.size(0), x + (g * Cg + pc + pl) * PQ, s.a.data() + pl * mr);
      else
        pack_phi(mv, p, g, x, pc, k, s.plan, mr, s.a.data());
      // The B block of nc channels stays in L2 while the A micro-panels pass.
      for (int64_t c0 = 0; c0 < nch; c0 += G.bl.nc)
        macro_kernel(G.uk, m, std::min(G.bl.nc, nch - c0), k, s.a.data(),
                     wp.data() + (g * nkb + b) * Npad * kc + (n0 + c0) * k, C + c0, Npad, b > 0 || bias != nullptr);
    }
    // C rows are pixels: each image's run of them is transposed into y.
    plan_scatter(i0, m, PQ, p.K * PQ, s.plan2);
    for (int64_t r = 0; r < s.plan2.size(0); ++r) {
      const CopyRun& run = s.plan2.group(0)[r];
      mv.transpose(C + run.src * Npad, Npad, run.len, nch, y + (g * Kg + n0) * PQ + run.dst, PQ);
    }
  });
}

}  // namespace

template <typename T>
void forward(const ConvParams& p, const T* x, const T* w, const T* bias, T* y) {
  switch (layout_for<T>(p, false)) {
    case Layout::BatchLanes: forward_lanes(p, x, w, bias, y); break;
    case Layout::PixelsMajor: forward_pm(p, x, w, bias, y); break;
    default: forward_cm(p, x, w, bias, y);
  }
}

template void forward<float>(const ConvParams&, const float*, const float*, const float*, float*);
template void forward<double>(const ConvParams&, const double*, const double*, const double*, double*);

}  // namespace im2col
}  // namespace convbp
