// The bwd_weight pass of the im2col route: dW_g = dy_g phi(x)^T (Xu, seed 002:
// dL/dF_f = phi(I)^T dL/dO_f, transposed; Diba eq. 15: x correlated with dy).
#include "drivers/conv-im2col.hpp"

namespace convbp {
namespace im2col {

namespace {
// Most bytes the partial dW buffers of one call may take (pixel parts beyond
// the first each sum into one).
constexpr int64_t kMaxPartialBytes = int64_t(64) << 20;
}  // namespace

// dW_g = dy_g phi(x)^T, the depth running over the batch's pixels, in the
// Goto order: per block of kc pixels, the dy block of all Kg output channels
// (A) is packed once, then each column block of dW gets its phi(x)^T block (B)
// packed once and multiplied by all of A. Items are (group, set of column
// blocks, part of the pixels): the column sets split dW between threads (each
// packs its own copy of A), the parts split the pixels (part 0 sums into dw,
// part i > 0 into partial buffer i - 1, added in order after); how many of each
// is chosen below. Both operands are pixel-contiguous, so each panel is gathered
// into plain rows (dy rows; phi rows through the im2col plan) and transposed
// into panel layout. (Items used to be single dW blocks of 272 x 240, which
// packed dy again for every column block: 20 times on a 512->512 3x3 layer.)
template <typename T>
void backward_weight(const ConvParams& p, const T* x, const T* dy, T* dw) {
  const Gemm<T> G(p.Cg() * p.R * p.S);
  const MoveKernels<T>& mv = kernel_table().move<T>();
  const int mr = G.uk.mr, nr = G.uk.nr;
  const int64_t Kg = p.Kg(), Cg = p.Cg(), RS = p.R * p.S, Kd = Cg * RS, PQ = p.P() * p.Q(), pixels = p.N * PQ;
  const int64_t kc = std::min(G.bl.kc, pixels), ldt = round_up(kc, 16);
  const bool pointwise = is_pointwise(p);
  // Items are (group, column set, pixel part), at least one per thread where the
  // groups are fewer than the threads. Both ways of splitting a group cost work
  // that one item per group does not: a column set packs all of its pixels' dy
  // again (Kg x pixels per set), a pixel part adds a partial dW to write and sum
  // (Kg x Kd per part). So a group's share of the threads, want = sets x parts,
  // is split the way that costs least, (sets - 1) pixels + (parts - 1) Kd.
  // Why: the sets-first rule this replaced gave a 16-thread call up to 16 column
  // sets (vgg11.c2: 8 sets x 2 parts of 48-wide blocks; vgg11.c4: 16 sets), and
  // their repeated packing made the call's total work larger. Measured by running
  // the 16-thread partition on 2 threads (Zen 5, batch 8), time over the 2-thread
  // call's: the large layers of the thread-scaling set (VGG-11 c2-c7, DeepLab's
  // two, wav2vec2.conv1) 1.07-1.35, geometric mean 1.18, with the old rule; 0.94-1.04,
  // mean 1.00, with this one. At 2 threads itself the split moves to parts on most
  // layers: train suite bwd_weight time 0.98 of the old (resnet.l1.3x3 0.94,
  // vgg11.c2 0.94, wav2vec2.conv1 0.93; none above 1.05). (resnet.l4.down, 392
  // pixels in one block: one item per group left a thread idle, hence the split
  // even where the pixels make one block.)
  const int64_t want = p.groups >= G.nt ? 1 : cdiv(G.nt, p.groups);
  const int64_t max_sets = cdiv(Kd, nr);
  int64_t sets = 1, parts = want, best = -1;
  for (int64_t s = 1; s <= want; ++s) {
    if (want % s != 0 || s > max_sets) continue;
    const int64_t q = want / s;
    if (q > 1 && (q - 1) * p.w_size() * int64_t(sizeof(T)) > kMaxPartialBytes) continue;
    const int64_t cost = (s - 1) * pixels + (q - 1) * Kd;
    if (best < 0 || cost < best) best = cost, sets = s, parts = q;
  }
  if (best < 0) sets = std::min(want, max_sets), parts = 1;  // no room for partial sums: columns only
  parts = std::min(parts, std::max<int64_t>(pixels, 1));
  // Column blocks of dW: the B block (kc x nb) within nc, and at least `sets` of
  // them, split evenly between the sets.
  int64_t nnb = std::max(cdiv(Kd, G.bl.nc), sets);
  const int64_t nb = round_up(cdiv(Kd, nnb), nr);
  nnb = cdiv(Kd, nb);
  const int64_t nsets = std::min(sets, nnb);
  const int64_t Mpad = round_up(Kg, mr);

  AlignedBuffer<T> partial((parts - 1) * p.w_size());
  // a: packed dy (Kg x kc); b: packed phi^T (kc x nb); c: one panel of gathered rows.
  auto ws = scratch<T>(G.nt, Mpad * kc, kc * nb, std::max(mr, nr) * ldt);
  parallel_for(p.groups * nsets * parts, [&](int64_t item) {
    Scratch<T>& s = ws[omp_get_thread_num()];
    const int64_t part = item % parts, set = item / parts % nsets, g = item / (parts * nsets);
    const int64_t q0 = nnb * set / nsets, q1 = nnb * (set + 1) / nsets;  // column blocks
    const int64_t c0 = q0 * nb, c1 = std::min(Kd, q1 * nb);
    T* Cg0 = (part == 0 ? dw : partial.data() + (part - 1) * p.w_size()) + g * Kg * Kd;
    // The part's pixels: an even share. (Split by whole blocks of kc, the two parts
    // of mobilenet.pw6's 1568 pixels were 1024 and 544: 1.16-1.54x at 2 threads.)
    const int64_t j_begin = pixels * part / parts, j_end = pixels * (part + 1) / parts;
    if (j_begin == j_end)
      for (int64_t i = 0; i < Kg; ++i) std::fill(Cg0 + i * Kd + c0, Cg0 + i * Kd + c1, T(0));
    T* rows = s.c.data();
    for (int64_t j0 = j_begin; j0 < j_end; j0 += kc) {
      const int64_t k = std::min(kc, j_end - j0);
      // A: dy rows of all Kg output channels, mr at a time.
      plan_gather(j0, k, PQ, p.K * PQ, 0, k, s.plan);
      for (int64_t i0 = 0; i0 < Kg; i0 += mr) {
        const int64_t h = std::min<int64_t>(mr, Kg - i0);
        for (int64_t i = 0; i < h; ++i)
          mv.copy_runs(s.plan.group(0), s.plan.size(0), dy + (g * Kg + i0 + i) * PQ, rows + i * ldt);
        transpose_panel(mv, rows, ldt, h, k, mr, s.a.data() + i0 * k);
      }
      if (pointwise) plan_gather(j0, k, PQ, p.C * PQ, 0, k, s.plan2);
      else plan_im2col(p, j0, k, 0, k, s.plan2);
      for (int64_t t0 = c0; t0 < c1; t0 += nb) {
        const int64_t n = std::min(nb, Kd - t0);
        // B: rows t0.. of phi(x), nr at a time.
        for (int64_t i0 = 0; i0 < n; i0 += nr) {
          const int64_t h = std::min<int64_t>(nr, n - i0);
          if (pointwise)
            for (int64_t i = 0; i < h; ++i)
              mv.copy_runs(s.plan2.group(0), s.plan2.size(0), x + (g * Cg + t0 + i0 + i) * PQ, rows + i * ldt);
          else
            pack_phi(mv, p, g, x, t0 + i0, h, s.plan2, ldt, rows);
          transpose_panel(mv, rows, ldt, h, k, nr, s.b.data() + i0 * k);
        }
        macro_kernel(G.uk, Kg, n, k, s.a.data(), s.b.data(), Cg0 + t0, Kd, j0 > j_begin);
      }
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

template void backward_weight<float>(const ConvParams&, const float*, const float*, float*);
template void backward_weight<double>(const ConvParams&, const double*, const double*, double*);

}  // namespace im2col
}  // namespace convbp
