// The bwd_data pass of the im2col route: dx = col2im(W_g^T dy_g) (Xu, seed 002:
// dL/dphi(I) = dL/dO_f F_f^T, then col2im scatter-adds it back onto x's grid),
// in either layout (conv-im2col.hpp). Items are (group, block of images, part
// of the input channels): an item owns the dx planes of its images and
// channels outright, so the scatter-adds never race and need no reduction.
// Inside an item, each tile of pixels has its dy packed once, for all depths,
// and every channel block of the part is multiplied against that one packing
// (packing dy per channel block instead cost 8-14% of the pass on the
// 512-channel VGG/ResNet layers, where there were 5-20 channel blocks).
#include "drivers/conv-im2col.hpp"

namespace convbp {
namespace im2col {

namespace {

// Packs the dy rows of group g for pixels [j0, j0 + n) into panels `unit` pixels
// wide, every depth block at once: block b (rows pc = b*kc ..) at dst + pc*tile.
// They are the B panels of channels-major (unit NR) and the A panels of
// pixels-major (unit MR): one packing for every channel block of the item.
template <typename T>
void pack_dy_tile(const MoveKernels<T>& mv, const ConvParams& p, int64_t g, const T* dy, int64_t j0, int64_t n,
                  int unit, int64_t tile, int64_t kc, Plan& plan, T* dst) {
  const int64_t Kg = p.Kg(), PQ = p.P() * p.Q();
  int64_t planned_kc = -1;
  for (int64_t pc = 0; pc < Kg; pc += kc) {
    const int64_t k = std::min(kc, Kg - pc);
    if (k != planned_kc) {  // panel offsets depend on the block depth
      plan_gather(j0, n, PQ, p.K * PQ, unit, k, plan);
      planned_kc = k;
    }
    for (int64_t pl = 0; pl < k; ++pl)
      mv.copy_runs(plan.group(0), plan.size(0), dy + (g * Kg + pc + pl) * PQ, dst + pc * tile + pl * unit);
  }
}

// One item of bwd_data: group g, images [n0, n1), the dx rows [h0, h1) of
// each, channel blocks [b0, b1); it multiplies the output pixels [j0, j1) of
// the batch (flattened), the ones whose taps reach those rows.
struct BwdItem {
  int64_t g, n0, n1, h0, h1, b0, b1, j0, j1;
};

// The parallel items of bwd_data: images in `nimg` blocks and, only when
// groups * nimg leaves threads idle (small batches), each image's rows in
// `nband` bands and channel blocks in `nch` parts. Channel blocks hold `cb`
// channels (at most cb_max).
struct BwdItems {
  int64_t nimg, nband = 1, nch, cb, ncb;
  BwdItems(const ConvParams& p, int nt, int64_t cb_max) {
    const int64_t Cg = p.Cg();
    // Threads split the images, each streaming all of W_g, unless W_g is more
    // than twice the size of dy (Kd > 2 * pixels: the 3x3 layers on 7x7 and 14x14
    // planes); then they split the channels, each reading its share of W_g and
    // packing all of dy. The factor 2: that packing transposes every dy element
    // once per thread, which streaming W_g does not. Measured at 2 threads:
    // channel split on Zen 4, resnet.l4.3x3 12.5 -> 10.2 ms, vgg11.c7 (Kd = 2.9x
    // pixels) 39.0 -> 36.8 ms; image split on Zen 5 for mobilenet.pw12 (1x1, Kd =
    // 1.3x pixels) 0.80x the channel split's time, pw13 (2.6x) 0.96x, the 3x3
    // layers 1.00-1.01x.
    // Beyond 2 threads, splitting only the channels packs dy once per thread:
    // a 16-thread channel split did 1.91x (mobilenet.pw13) and 1.64x
    // (resnet.l4.3x3s2) the work of a 2-thread one (the work of its items, run
    // on one thread). So the channel split keeps about sqrt(threads) images
    // parts, the rest channel parts: 4 x 4 at 16 threads, 0.79x and 0.99x.
    if (p.Cg() * p.R * p.S > 2 * p.N * p.P() * p.Q() && p.groups < nt) {
      const int64_t want = cdiv(nt, p.groups);
      int64_t root = 1;
      while ((root + 1) * (root + 1) <= want) ++root;
      nimg = std::min<int64_t>(p.N, root);
      nch = std::min<int64_t>(Cg, cdiv(want, nimg));
    } else {
      nimg = p.groups >= nt ? 1 : std::min<int64_t>(p.N, cdiv(nt, p.groups));
      if (p.groups * nimg < nt) nband = bands(p, nt, p.groups * nimg);
      const int64_t parts = p.groups * nimg * nband;
      nch = parts >= nt ? 1 : std::min<int64_t>(Cg, cdiv(nt, parts));
    }
    cb = std::clamp<int64_t>(cb_max, 1, cdiv(Cg, nch));
    cb = cdiv(Cg, round_up(cdiv(Cg, cb), nch));  // a multiple of nch blocks: equal parts
    ncb = cdiv(Cg, cb);
    nch = std::min(nch, ncb);
  }
  int64_t count(const ConvParams& p) const { return p.groups * nimg * nband * nch; }
  BwdItem get(const ConvParams& p, int64_t i) const {
    BwdItem it;
    it.g = i / (nimg * nband * nch);
    const int64_t part = i / (nband * nch) % nimg, band = i / nch % nband, cp = i % nch;
    it.n0 = p.N * part / nimg;
    it.n1 = p.N * (part + 1) / nimg;
    it.b0 = ncb * cp / nch;
    it.b1 = ncb * (cp + 1) / nch;
    const int64_t PQ = p.P() * p.Q();
    it.h0 = 0;
    it.h1 = p.H;
    it.j0 = it.n0 * PQ;
    it.j1 = it.n1 * PQ;
    if (nband > 1) {  // one image (bands are only cut then): the output rows whose taps reach the band
      it.h0 = p.H * band / nband;
      it.h1 = p.H * (band + 1) / nband;
      const int64_t reach = (p.R - 1) * p.dil_h;
      const int64_t pa = std::max<int64_t>(0, ceil_div(it.h0 + p.pad_top - reach, p.stride_h));
      const int64_t pb = std::min<int64_t>(p.P(), floor_div(it.h1 - 1 + p.pad_top, p.stride_h) + 1);
      it.j0 = it.n0 * PQ + pa * p.Q();
      it.j1 = it.n0 * PQ + std::max(pa, pb) * p.Q();
    }
    return it;
  }

 private:
  // Bands of rows, when the batch leaves threads idle (`parts` = groups x
  // images < nt). Neighbouring bands both multiply the output rows whose taps
  // reach across their border, about (R-1)*dil/stride of them: the bands are
  // cut only while that redundant work stays within 1/8 of the image's, and
  // while a band keeps at least 512 output pixels (each item streams its share
  // of W_g once per tile of pixels, so small bands multiply that streaming).
  // The count makes parts x bands a multiple of nt when it can (static
  // scheduling: equal shares); what the bands leave, channel parts fill.
  // Before, channel parts took all of it: each packs dy again, and its blocks
  // pad to MR rows. The work of a 16-thread split over that of a 2-thread one
  // (batch 8, run on one thread), channel parts -> bands: vgg11.c1 (3
  // channels) 1.59x -> 0.96x, mobilenet.pw1 1.43x -> 0.97x, resnet.stem 1.15x
  // -> 1.00x, mobilenet.stem 1.26x -> 0.98x, mobilenet.pw2 1.23x -> 0.98x. On
  // 14x14 outputs (98-pixel bands) bands did more work than channel parts:
  // mobilenet.pw7 1.42x against 1.19x, resnet.l3.down 1.33x against 1.19x.
  static int64_t bands(const ConvParams& p, int nt, int64_t parts) {
    const int64_t P = p.P(), PQ = P * p.Q(), halo = cdiv((p.R - 1) * p.dil_h, p.stride_h);
    const auto allowed = [&](int64_t b) {
      return b == 1 || (b <= P && b <= p.H && (b - 1) * halo * 8 <= P && PQ / b >= 512);
    };
    const int64_t want = cdiv(nt, parts);
    for (int64_t b = want; b <= nt; ++b)
      if ((parts * b) % nt == 0 && allowed(b)) return b;
    int64_t b = want;
    while (b > 1 && !allowed(b)) --b;
    return b;
  }
};

// col2im adds into dx: the item's rows start from zero (padding-only pixels stay 0).
template <typename T>
void zero_planes(const ConvParams& p, const BwdItem& it, int64_t c0, int64_t c1, T* dx) {
  const int64_t HW = p.H * p.W;
  for (int64_t n = it.n0; n < it.n1; ++n) {
    T* plane = dx + (n * p.C + it.g * p.Cg() + c0) * HW;
    if (it.h0 == 0 && it.h1 == p.H) {
      std::fill(plane, plane + (c1 - c0) * HW, T(0));
    } else {
      for (int64_t c = c0; c < c1; ++c, plane += HW) std::fill(plane + it.h0 * p.W, plane + it.h1 * p.W, T(0));
    }
  }
}

// Channels-major: dphi = W_g^T dy_g, tile by tile of pixels, then col2im.
template <typename T>
void backward_input_cm(const ConvParams& p, const T* dy, const T* w, T* dx) {
  const Gemm<T> G(p.N * p.P() * p.Q());
  const MoveKernels<T>& mv = kernel_table().move<T>();
  const int mr = G.uk.mr, nr = G.uk.nr;
  const int64_t Kg = p.Kg(), Cg = p.Cg(), RS = p.R * p.S, Kd = Cg * RS, PQ = p.P() * p.Q(), HW = p.H * p.W;
  const int64_t kc = std::min(G.bl.kc, Kg), nkb = cdiv(Kg, kc), sz = sizeof(T);
  const bool pointwise = is_pointwise(p);
  // Pixel tiles: the packed dy tile (Kg x tn, every depth block) in half of L2.
  const int64_t tn = std::clamp<int64_t>(G.l2 / 2 / (Kg * sz) / nr * nr, nr,
                                         std::min(G.bl.nc, round_up(PQ * p.N, nr)));
  // Channel blocks: the dphi tile (cb*R*S x tn) in a quarter of L2.
  const BwdItems it(p, G.nt, std::max<int64_t>(1, G.l2 / 4 / (RS * tn * sz)));
  const int64_t cb = it.cb, ncb = it.ncb, Mpad = round_up(cb * RS, mr);

  // W_g^T as A panels: per (group, channel block, depth block).
  AlignedBuffer<T> wp(p.groups * ncb * nkb * Mpad * kc);
  parallel_for(p.groups * ncb * nkb, [&](int64_t i) {
    const int64_t g = i / (ncb * nkb), c0 = i / nkb % ncb * cb, b = i % nkb, pc = b * kc;
    const int64_t rows = (std::min(Cg, c0 + cb) - c0) * RS;
    pack_a(mr, true, w + (g * Kg + pc) * Kd + c0 * RS, Kd, rows, std::min(kc, Kg - pc), wp.data() + i * Mpad * kc);
  });

  // b: the packed dy tile, depth block d at d*kc*tn; c: the dphi tile.
  auto ws = scratch<T>(G.nt, 0, Kg * tn, Mpad * tn);
  parallel_for(it.count(p), [&](int64_t item) {
    Scratch<T>& s = ws[omp_get_thread_num()];
    const BwdItem bi = it.get(p, item);
    const int64_t g = bi.g, c0 = bi.b0 * cb, c1 = std::min(Cg, bi.b1 * cb);
    if (!pointwise) zero_planes(p, bi, c0, c1, dx);
    T* C = s.c.data();
    for (int64_t j0 = bi.j0; j0 < bi.j1; j0 += tn) {
      const int64_t n = std::min(tn, bi.j1 - j0);
      pack_dy_tile(mv, p, g, dy, j0, n, nr, tn, kc, s.plan, s.b.data());
      if (pointwise) plan_scatter(j0, n, PQ, p.C * HW, s.plan2);
      else plan_col2im(p, j0, n, bi.h0, bi.h1, s.plan2);
      for (int64_t cbi = bi.b0; cbi < bi.b1; ++cbi) {
        const int64_t cc = cbi * cb, rows = (std::min(Cg, cc + cb) - cc) * RS;
        for (int64_t b = 0; b < nkb; ++b) {
          const int64_t pc = b * kc, k = std::min(kc, Kg - pc);
          macro_kernel(G.uk, rows, n, k, wp.data() + ((g * ncb + cbi) * nkb + b) * Mpad * kc, s.b.data() + pc * tn,
                       C, tn, b > 0);
        }
        if (pointwise) {  // phi is x itself: dphi is dx, each element written once
          for (int64_t i = 0; i < rows; ++i)
            mv.copy_runs(s.plan2.group(0), s.plan2.size(0), C + i * tn, dx + (g * Cg + cc + i) * HW);
        } else {
          for (int64_t i = 0; i < rows; ++i)
            mv.add_runs(s.plan2.group(i % RS), s.plan2.size(i % RS), C + i * tn, dx + (g * Cg + cc + i / RS) * HW);
        }
      }
    }
  });
}

// Pixels-major: dphi^T = dy_g^T W_g, tile by tile of pixels: A = dy^T panels of
// MR pixels (per tile, every depth block), B = W_g's columns of each channel
// block (packed once); the C tile (pixels x (c, r, s)) is transposed, then
// col2im as above.
template <typename T>
void backward_input_pm(const ConvParams& p, const T* dy, const T* w, T* dx) {
  const int64_t Kg = p.Kg(), Cg = p.Cg(), RS = p.R * p.S, Kd = Cg * RS, PQ = p.P() * p.Q(), HW = p.H * p.W;
  const Gemm<T> G(Kd);
  const MoveKernels<T>& mv = kernel_table().move<T>();
  const int mr = G.uk.mr, nr = G.uk.nr;
  const int64_t kc = std::min(G.bl.kc, Kg), nkb = cdiv(Kg, kc), sz = sizeof(T);
  const bool pointwise = is_pointwise(p);
  // Channel blocks: the B block (kc x cb*R*S) within nc.
  const BwdItems it(p, G.nt, std::max<int64_t>(1, G.bl.nc / RS));
  const int64_t cb = it.cb, ncb = it.ncb, Npad = round_up(cb * RS, nr);
  // Pixel tiles: the C tile (tm x Npad) in a quarter of L2. The packed dy^T tile
  // (tm x Kg) streams from L3 once per channel block, as the B block does; tiles
  // of 80 pixels (dy^T in L2 too) were 20% slower on resnet.l4.3x3s2.
  const int64_t tm = std::max<int64_t>(mr, std::min<int64_t>(G.l2 / 4 / (Npad * sz), 1024) / mr * mr);

  // W_g's columns (c0*R*S ..) as B panels: per (group, channel block, depth block).
  AlignedBuffer<T> wp(p.groups * ncb * nkb * Npad * kc);
  parallel_for(p.groups * ncb * nkb, [&](int64_t i) {
    const int64_t g = i / (ncb * nkb), c0 = i / nkb % ncb * cb, pc = i % nkb * kc;
    const int64_t cols = (std::min(Cg, c0 + cb) - c0) * RS;
    pack_b(nr, false, w + (g * Kg + pc) * Kd + c0 * RS, Kd, std::min(kc, Kg - pc), cols, wp.data() + i * Npad * kc);
  });

  // a: dy^T panels, depth block d at d*kc*tm; b: the transposed C tile (rows
  // (c, r, s) x tm); c: the C tile.
  auto ws = scratch<T>(G.nt, tm * Kg, pointwise ? 0 : cb * RS * tm, tm * Npad);
  parallel_for(it.count(p), [&](int64_t item) {
    Scratch<T>& s = ws[omp_get_thread_num()];
    const BwdItem bi = it.get(p, item);
    const int64_t g = bi.g, c0 = bi.b0 * cb, c1 = std::min(Cg, bi.b1 * cb);
    if (!pointwise) zero_planes(p, bi, c0, c1, dx);
    T* C = s.c.data();
    for (int64_t j0 = bi.j0; j0 < bi.j1; j0 += tm) {
      const int64_t m = std::min(tm, bi.j1 - j0);
      pack_dy_tile(mv, p, g, dy, j0, m, mr, tm, kc, s.plan, s.a.data());
      if (pointwise) plan_scatter(j0, m, PQ, p.C * HW, s.plan2);
      else plan_col2im(p, j0, m, bi.h0, bi.h1, s.plan2);
      for (int64_t cbi = bi.b0; cbi < bi.b1; ++cbi) {
        const int64_t cc = cbi * cb, rows = (std::min(Cg, cc + cb) - cc) * RS;
        for (int64_t b = 0; b < nkb; ++b) {
          const int64_t pc = b * kc, k = std::min(kc, Kg - pc);
          macro_kernel(G.uk, m, rows, k, s.a.data() + pc * tm, wp.data() + ((g * ncb + cbi) * nkb + b) * Npad * kc, C,
                       Npad, b > 0);
        }
        if (pointwise) {  // phi is x itself: each image's run of pixels transposes into dx
          for (int64_t r = 0; r < s.plan2.size(0); ++r) {
            const CopyRun& run = s.plan2.group(0)[r];
            mv.transpose(C + run.src * Npad, Npad, run.len, rows, dx + (g * Cg + cc) * HW + run.dst, HW);
          }
        } else {
          T* dphi = s.b.data();
          mv.transpose(C, Npad, m, rows, dphi, tm);
          for (int64_t i = 0; i < rows; ++i)
            mv.add_runs(s.plan2.group(i % RS), s.plan2.size(i % RS), dphi + i * tm, dx + (g * Cg + cc + i / RS) * HW);
        }
      }
    }
  });
}

}  // namespace

template <typename T>
void backward_input(const ConvParams& p, const T* dy, const T* w, T* dx) {
  switch (layout_for<T>(p, true)) {
    case Layout::BatchLanes: backward_input_lanes(p, dy, w, dx); break;
    case Layout::PixelsMajor: backward_input_pm(p, dy, w, dx); break;
    default: backward_input_cm(p, dy, w, dx);
  }
}

template void backward_input<float>(const ConvParams&, const float*, const float*, float*);
template void backward_input<double>(const ConvParams&, const double*, const double*, double*);

}  // namespace im2col
}  // namespace convbp
