// The im2col + GEMM route (Xu, seed 002): per group g, with phi(x) the patch
// matrix (im2col-pack.hpp; rows (c, r, s), columns the output pixels of the
// whole batch) and W_g the (K/g) x (C/g*R*S) weight matrix,
//     forward      y_g  = W_g phi(x)              (+ bias, fused into the write-back)
//     bwd_data     dx  += col2im(W_g^T dy_g)      (dphi(X) = dY_f W_f^T, then col2im)
//     bwd_weight   dW_g = dy_g phi(x)^T           (dW_f = phi(X)^T dY_f, transposed)
// where dy_g is (K/g) x (N*P*Q). phi(x) is never stored: a tile of its columns
// (or, for dW, a block of its rows) is packed straight into the GEMM's B panels,
// so the workspace is a few blocks per thread whatever the batch size. The
// weights are packed once per call into A panels. Work is split into items that
// write disjoint outputs (forward: pixel tiles x row blocks; bwd_data: channel
// blocks, whose dx planes no other item touches; bwd_weight: blocks of dW, with
// per-part partial sums when dW alone has too few blocks for the threads, added
// in a fixed order), so results are bit-identical for a given thread count.
#include <omp.h>

#include <algorithm>
#include <vector>

#include "dispatch/cache-sizes.hpp"
#include "dispatch/kernel-table.hpp"
#include "dispatch/routes.hpp"
#include "drivers/gemm.hpp"
#include "drivers/im2col-pack.hpp"
#include "drivers/parallel.hpp"
#include "drivers/workspace.hpp"

namespace convbp {

namespace {

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
// for into B panels: row t = (c, tap) runs the tap's group from channel c.
template <typename T>
void pack_phi(const MoveKernels<T>& mv, const ConvParams& p, int64_t g, const T* x, int64_t t0, int64_t kc,
              const Plan& plan, int64_t row_stride, T* dst) {
  const int64_t RS = p.R * p.S, HW = p.H * p.W;
  int64_t c = t0 / RS, rs = t0 % RS;
  for (int64_t pl = 0; pl < kc; ++pl) {
    mv.copy_runs(plan.group(rs), plan.size(rs), x + (g * p.Cg() + c) * HW, dst + pl * row_stride);
    if (++rs == RS) { rs = 0; ++c; }
  }
}

// y_g = W_g phi(x) + bias: items are (group, pixel tile, block of output channels).
// The bias is the C tile's starting value, so it rides along the GEMM.
template <typename T>
void forward(const ConvParams& p, const T* x, const T* w, const T* bias, T* y) {
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

// dx = col2im(W_g^T dy_g): items are (group, block of input channels, block of
// images); an item owns the dx planes of its channels and images outright.
template <typename T>
void backward_input(const ConvParams& p, const T* dy, const T* w, T* dx) {
  const Gemm<T> G(p.N * p.P() * p.Q());
  const MoveKernels<T>& mv = kernel_table().move<T>();
  const int mr = G.uk.mr, nr = G.uk.nr;
  const int64_t Kg = p.Kg(), Cg = p.Cg(), RS = p.R * p.S, Kd = Cg * RS, PQ = p.P() * p.Q(), HW = p.H * p.W;
  const int64_t kc = std::min(G.bl.kc, Kg), nkb = cdiv(Kg, kc);
  const bool pointwise = is_pointwise(p);
  const int64_t tn = std::min(G.bl.nc, round_up(PQ * p.N, nr));
  // Channel blocks: the dphi tile (cb*R*S x tn) in half of L2; a multiple of the
  // thread count when there are several, and at least one per thread if possible.
  int64_t ncb = cdiv(Cg, std::max<int64_t>(1, G.l2 / 2 / (RS * tn * int64_t(sizeof(T)))));
  if (ncb > 1) ncb = round_up(ncb, G.nt);
  if (p.groups * ncb < G.nt) ncb = cdiv(G.nt, p.groups);
  ncb = std::min(ncb, Cg);
  const int64_t cb = cdiv(Cg, ncb);
  ncb = cdiv(Cg, cb);
  const int64_t nimg = p.groups * ncb >= G.nt ? 1 : std::min<int64_t>(p.N, cdiv(G.nt, p.groups * ncb));
  const int64_t Mpad = round_up(cb * RS, mr);

  // W_g^T as A panels: per (group, channel block, depth block).
  AlignedBuffer<T> wp(p.groups * ncb * nkb * Mpad * kc);
  parallel_for(p.groups * ncb * nkb, [&](int64_t i) {
    const int64_t g = i / (ncb * nkb), c0 = i / nkb % ncb * cb, b = i % nkb, pc = b * kc;
    const int64_t rows = (std::min(Cg, c0 + cb) - c0) * RS;
    pack_a(mr, true, w + (g * Kg + pc) * Kd + c0 * RS, Kd, rows, std::min(kc, Kg - pc), wp.data() + i * Mpad * kc);
  });

  auto ws = scratch<T>(G.nt, 0, kc * round_up(tn, nr), Mpad * tn);
  parallel_for(p.groups * ncb * nimg, [&](int64_t item) {
    Scratch<T>& s = ws[omp_get_thread_num()];
    const int64_t g = item / (ncb * nimg), cbi = item / nimg % ncb, part = item % nimg;
    const int64_t c0 = cbi * cb, c1 = std::min(Cg, c0 + cb), rows = (c1 - c0) * RS;
    const int64_t n0 = p.N * part / nimg, n1 = p.N * (part + 1) / nimg;
    if (!pointwise)  // col2im adds into dx: start from zero (padding-only pixels stay 0)
      for (int64_t n = n0; n < n1; ++n)
        std::fill(dx + (n * p.C + g * Cg + c0) * HW, dx + (n * p.C + g * Cg + c1) * HW, T(0));
    T* C = s.c.data();
    for (int64_t j0 = n0 * PQ; j0 < n1 * PQ; j0 += tn) {
      const int64_t n = std::min(tn, n1 * PQ - j0);
      int64_t planned_kc = -1;
      for (int64_t b = 0; b < nkb; ++b) {
        const int64_t pc = b * kc, k = std::min(kc, Kg - pc);
        if (k != planned_kc) {
          plan_gather(j0, n, PQ, p.K * PQ, nr, k, s.plan);
          planned_kc = k;
        }
        for (int64_t pl = 0; pl < k; ++pl)
          mv.copy_runs(s.plan.group(0), s.plan.size(0), dy + (g * Kg + pc + pl) * PQ, s.b.data() + pl * nr);
        macro_kernel(G.uk, rows, n, k, wp.data() + ((g * ncb + cbi) * nkb + b) * Mpad * kc, s.b.data(), C, tn,
                     b > 0);
      }
      if (pointwise) {  // phi is x itself: dphi is dx, each element written once
        plan_scatter(j0, n, PQ, p.C * HW, s.plan2);
        for (int64_t i = 0; i < rows; ++i)
          mv.copy_runs(s.plan2.group(0), s.plan2.size(0), C + i * tn, dx + (g * Cg + c0 + i) * HW);
      } else {
        plan_col2im(p, j0, n, s.plan2);
        for (int64_t i = 0; i < rows; ++i)
          mv.add_runs(s.plan2.group(i % RS), s.plan2.size(i % RS), C + i * tn, dx + (g * Cg + c0 + i / RS) * HW);
      }
    }
  });
}

// dW_g = dy_g phi(x)^T, the depth running over the batch's pixels: items are
// (group, row block, column block of dW, part of the pixels). Part 0 sums into
// dw, part i > 0 into partial buffer i - 1; the parts are added in order after.
// Both operands are pixel-contiguous, so each panel is gathered into plain rows
// (dy rows; phi rows through the im2col plan) and transposed into panel layout.
template <typename T>
void backward_weight(const ConvParams& p, const T* x, const T* dy, T* dw) {
  const Gemm<T> G(p.Cg() * p.R * p.S);
  const MoveKernels<T>& mv = kernel_table().move<T>();
  const int mr = G.uk.mr, nr = G.uk.nr;
  const int64_t Kg = p.Kg(), Cg = p.Cg(), RS = p.R * p.S, Kd = Cg * RS, PQ = p.P() * p.Q(), pixels = p.N * PQ;
  const int64_t kc = std::min(G.bl.kc, pixels), nkb = cdiv(pixels, kc), ldt = round_up(kc, 16);
  const bool pointwise = is_pointwise(p);
  // Column blocks of dW: the B block (kc x nb) within nc; a multiple of the
  // threads when there are several. Row blocks: the dW block (mb x nb) in a
  // quarter of L2.
  int64_t nnb = cdiv(Kd, G.bl.nc);
  if (nnb > 1) nnb = round_up(nnb, G.nt);
  const int64_t nb = round_up(cdiv(Kd, nnb), nr);
  nnb = cdiv(Kd, nb);
  const int64_t mb = std::min(round_up(Kg, mr), std::max<int64_t>(mr, G.l2 / 4 / (nb * int64_t(sizeof(T))) / mr * mr));
  const int64_t nmb = cdiv(Kg, mb);
  const int64_t blocks = p.groups * nmb * nnb;
  const int64_t parts = blocks >= G.nt ? 1 : std::min<int64_t>(nkb, cdiv(G.nt, blocks));

  AlignedBuffer<T> partial((parts - 1) * p.w_size());
  // a: packed dy (mb x kc); b: packed phi^T (kc x nb); c: one panel of gathered rows.
  auto ws = scratch<T>(G.nt, round_up(mb, mr) * kc, kc * nb, std::max(mr, nr) * ldt);
  parallel_for(blocks * parts, [&](int64_t item) {
    Scratch<T>& s = ws[omp_get_thread_num()];
    const int64_t part = item % parts, blk = item / parts;
    const int64_t g = blk / (nmb * nnb), m0 = blk / nnb % nmb * mb, t0 = blk % nnb * nb;
    const int64_t m = std::min(mb, Kg - m0), n = std::min(nb, Kd - t0);
    T* C = (part == 0 ? dw : partial.data() + (part - 1) * p.w_size()) + (g * Kg + m0) * Kd + t0;
    const int64_t b0 = nkb * part / parts, b1 = nkb * (part + 1) / parts;
    if (b0 == b1)
      for (int64_t i = 0; i < m; ++i) std::fill(C + i * Kd, C + i * Kd + n, T(0));
    T* rows = s.c.data();
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t j0 = b * kc, k = std::min(kc, pixels - j0);
      // A: dy rows of this block's output channels, mr at a time.
      plan_gather(j0, k, PQ, p.K * PQ, 0, k, s.plan);
      for (int64_t i0 = 0; i0 < m; i0 += mr) {
        const int64_t h = std::min<int64_t>(mr, m - i0);
        for (int64_t i = 0; i < h; ++i)
          mv.copy_runs(s.plan.group(0), s.plan.size(0), dy + (g * Kg + m0 + i0 + i) * PQ, rows + i * ldt);
        transpose_panel(mv, rows, ldt, h, k, mr, s.a.data() + i0 * k);
      }
      // B: rows t0.. of phi(x), nr at a time.
      if (pointwise) plan_gather(j0, k, PQ, p.C * PQ, 0, k, s.plan2);
      else plan_im2col(p, j0, k, 0, k, s.plan2);
      for (int64_t i0 = 0; i0 < n; i0 += nr) {
        const int64_t h = std::min<int64_t>(nr, n - i0);
        if (pointwise)
          for (int64_t i = 0; i < h; ++i)
            mv.copy_runs(s.plan2.group(0), s.plan2.size(0), x + (g * Cg + t0 + i0 + i) * PQ, rows + i * ldt);
        else
          pack_phi(mv, p, g, x, t0 + i0, h, s.plan2, ldt, rows);
        transpose_panel(mv, rows, ldt, h, k, nr, s.b.data() + i0 * k);
      }
      macro_kernel(G.uk, m, n, k, s.a.data(), s.b.data(), C, Kd, b > b0);
    }
  });
  if (parts > 1) {
    const int64_t size = p.w_size(), chunk = 4096;
    parallel_for(cdiv(size, chunk), [&](int64_t c) {
      const int64_t i0 = c * chunk, i1 = std::min(size, i0 + chunk);
      for (int64_t q = 0; q < parts - 1; ++q) {
        const T* src = partial.data() + q * size;
        for (int64_t i = i0; i < i1; ++i) dw[i] += src[i];
      }
    });
  }
}

std::string refuses(const ConvParams&, Pass, DType) { return ""; }

}  // namespace

Route make_im2col_route() {
  return Route{"im2col",
               refuses,
               {forward<float>, backward_input<float>, backward_weight<float>},
               {forward<double>, backward_input<double>, backward_weight<double>}};
}

}  // namespace convbp
