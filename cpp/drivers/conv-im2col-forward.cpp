// The forward pass of the im2col route: y_g = W_g phi(x) + bias (Xu, seed 002:
// O_f = phi(I) F_f), in either layout (conv-im2col.hpp).
#include "drivers/conv-im2col.hpp"

namespace convbp {
namespace im2col {

namespace {

// Channels-major: y_g = W_g phi(x) + bias. Items are (group, pixel tile, block
// of output channels); the bias is the C tile's starting value, so it rides
// along the GEMM.
template <typename T>
void forward_cm(const ConvParams& p, const T* x, const T* w, const T* bias, T* y) {
  const Gemm<T> G(p.N * p.P() * p.Q());
  const MoveKernels<T>& mv = kernel_table().move<T>();
  const int mr = G.uk.mr, nr = G.uk.nr;
  const int64_t Kg = p.Kg(), Cg = p.Cg(), Kd = Cg * p.R * p.S, PQ = p.P() * p.Q(), cols = p.N * PQ;
  const int64_t kc = std::min(G.bl.kc, Kd), nkb = cdiv(Kd, kc), Mpad = round_up(Kg, mr);
  const bool pointwise = is_pointwise(p);
  // Items: the C tile (mb x tn) stays in a quarter of L2 beside the B block.
  int64_t mb, tn;
  G.items(Kg, cols, p.groups, G.l2 / 4 / (std::min(G.bl.nc, round_up(cols, nr)) * int64_t(sizeof(T))), mb, tn);
  const int64_t ntile = cdiv(cols, tn), nmb = cdiv(Kg, mb);

  // W_g as A panels, one block per depth block of kc.
  AlignedBuffer<T> wp(p.groups * nkb * Mpad * kc);
  parallel_for(p.groups * nkb, [&](int64_t gb) {
    const int64_t g = gb / nkb, b = gb % nkb, pc = b * kc;
    pack_a(mr, false, w + g * Kg * Kd + pc, Kd, Kg, std::min(kc, Kd - pc), wp.data() + gb * Mpad * kc);
  });

  auto ws = scratch<T>(G.nt, 0, kc * round_up(tn, nr), mb * tn);
  parallel_for(p.groups * ntile * nmb, [&](int64_t item) {
    Scratch<T>& s = ws[omp_get_thread_num()];
    const int64_t g = item / (ntile * nmb), tile = item / nmb % ntile, m0 = item % nmb * mb;
    const int64_t j0 = tile * tn, n = std::min(tn, cols - j0), m = std::min(mb, Kg - m0);
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
// block of output channels): A = phi(x)^T panels of MR pixels, packed per item;
// B = W_g^T panels, packed once; the C tile (pixels x channels) is transposed
// into y.
template <typename T>
void forward_pm(const ConvParams& p, const T* x, const T* w, const T* bias, T* y) {
  const Gemm<T> G(p.Kg());
  const MoveKernels<T>& mv = kernel_table().move<T>();
  const int mr = G.uk.mr, nr = G.uk.nr;
  const int64_t Kg = p.Kg(), Cg = p.Cg(), Kd = Cg * p.R * p.S, PQ = p.P() * p.Q(), pixels = p.N * PQ;
  const int64_t kc = std::min(G.bl.kc, Kd), nkb = cdiv(Kd, kc), Npad = round_up(Kg, nr);
  const bool pointwise = is_pointwise(p);
  // Items: mb pixels x tn channels; the C tile in a quarter of L2.
  int64_t mb, tn;
  G.items(pixels, Kg, p.groups, G.l2 / 4 / (std::min(G.bl.nc, Npad) * int64_t(sizeof(T))), mb, tn);
  const int64_t npb = cdiv(pixels, mb), ncb = cdiv(Kg, tn);

  // W_g^T as B panels: op(B)(t, k) = W_g[k, t], one block per depth block.
  AlignedBuffer<T> wp(p.groups * nkb * Npad * kc);
  parallel_for(p.groups * nkb, [&](int64_t gb) {
    const int64_t g = gb / nkb, pc = gb % nkb * kc;
    pack_b(nr, true, w + g * Kg * Kd + pc, Kd, std::min(kc, Kd - pc), Kg, wp.data() + gb * Npad * kc);
  });

  auto ws = scratch<T>(G.nt, round_up(mb, mr) * kc, 0, mb * tn);
  parallel_for(p.groups * npb * ncb, [&](int64_t item) {
    Scratch<T>& s = ws[omp_get_thread_num()];
    const int64_t g = item / (npb * ncb), i0 = item / ncb % npb * mb, n0 = item % ncb * tn;
    const int64_t m = std::min(mb, pixels - i0), n = std::min(tn, Kg - n0);
    T* C = s.c.data();
    if (bias)
      for (int64_t i = 0; i < m; ++i) std::memcpy(C + i * tn, bias + g * Kg + n0, size_t(n) * sizeof(T));
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
      macro_kernel(G.uk, m, n, k, s.a.data(), wp.data() + (g * nkb + b) * Npad * kc + n0 * k, C, tn,
                   b > 0 || bias != nullptr);
    }
    // C rows are pixels: each image's run of them is transposed into y.
    plan_scatter(i0, m, PQ, p.K * PQ, s.plan2);
    for (int64_t r = 0; r < s.plan2.size(0); ++r) {
      const CopyRun& run = s.plan2.group(0)[r];
      mv.transpose(C + run.src * tn, tn, run.len, n, y + (g * Kg + n0) * PQ + run.dst, PQ);
    }
  });
}

}  // namespace

template <typename T>
void forward(const ConvParams& p, const T* x, const T* w, const T* bias, T* y) {
  if (choose_layout<T>(p.Kg(), p.N * p.P() * p.Q()) == Layout::PixelsMajor) forward_pm(p, x, w, bias, y);
  else forward_cm(p, x, w, bias, y);
}

template void forward<float>(const ConvParams&, const float*, const float*, const float*, float*);
template void forward<double>(const ConvParams&, const double*, const double*, const double*, double*);

}  // namespace im2col
}  // namespace convbp
