// The im2col route's batch-lanes layout (Layout::BatchLanes, conv-im2col.hpp),
// for forward and stride-1 bwd_data. It is pixels-major with the batch in the
// micro-kernel's MR rows: a block of MR images is rearranged once into
// xt[pixel][channel][lane] (lane = image of the block), and then the packed A
// micro-panel of phi(x)^T for one output pixel of the MR images, one tap and kc
// channels is a contiguous run of xt, read in place: kc rows of MR values,
// exactly the panel format. So nothing is packed per tile, and a tap that lands
// in the padding for an output pixel lands there for all MR images at once: its
// micro-kernel calls are skipped instead of multiplying zeros. A 3x3, padding 1
// layer on 7x7 planes does 81.9% of the multiply-adds of the other layouts,
// on 14x14 planes 90.7%.
//
// Forward (Xu, seed 002: O_f = phi(I) F_f, here transposed: y^T = phi(x)^T W^T)
// with the depth ordered (tap, channel) so a k block lies inside one tap.
// bwd_data with stride 1 (seed 001: the full correlation of dy with rot180(W))
// is the same product on dy: dx = conv(dy, W'), W'[c, k, r, s] =
// W[k, c, R-1-r, S-1-s], padding d*(R-1) - pad (negative when pad exceeds
// d*(R-1): those taps only ever see the padding and are skipped), so both passes
// run the loops below and differ only in how W is packed.
//
// Workspace: xt for one block of MR images (MR*C*H*W), the packed weights
// (as in the other layouts) and a C tile per thread: bounded independently of
// the batch size, which runs block after block.
#include <stdexcept>

#include "drivers/conv-im2col.hpp"

namespace convbp {
namespace im2col {

namespace {

// One product in the lanes layout: src (N, Ci, Hi, Wi) -> dst (N, Co, Ho, Wo),
// groups, taps R x S; input row of output row h, tap r: h*sh - pt + r*dh (the
// same for columns).
struct LanesGeom {
  int64_t N, Ci, Hi, Wi, Co, Ho, Wo, R, S, sh, sw, dh, dw, pt, pl, groups;
  int64_t Cig() const { return Ci / groups; }
  int64_t Cog() const { return Co / groups; }
};

// xt[(pix*Ci + c)*mr + lane] = src[n0 + lane, c, pix] for the images of the
// block (lanes past N are zero). Per channel c, the block's images are an
// (images x pixels) matrix, Ci*H*W apart, whose transpose is xt's runs of MR
// lanes, Ci*MR apart: one call of the ISA's transpose per channel and chunk of
// pixels (the chunk's reads stay in L1 across the channels). It replaced a
// scalar loop that took 15% of resnet.l1.3x3's forward time (1 thread).
template <typename T>
void build_lanes(const LanesGeom& g, const T* src, int64_t n0, int mr, T* xt) {
  const MoveKernels<T>& mv = kernel_table().move<T>();
  const int64_t HW = g.Hi * g.Wi, Ci = g.Ci, lanes = std::min<int64_t>(mr, g.N - n0);
  constexpr int64_t kChunk = 64;
  parallel_for(cdiv(HW, kChunk), [&](int64_t pb) {
    const int64_t p0 = pb * kChunk, np = std::min(HW, p0 + kChunk) - p0;
    for (int64_t c = 0; c < Ci; ++c) {
      T* d = xt + (p0 * Ci + c) * mr;
      mv.transpose(src + (n0 * Ci + c) * HW + p0, Ci * HW, lanes, np, d, Ci * mr);
      if (lanes < mr)
        for (int64_t i = 0; i < np; ++i) std::fill(d + i * Ci * mr + lanes, d + i * Ci * mr + mr, T(0));
    }
  });
}

// dst = conv(src) with the weights already packed: wp holds, per group, tap and
// depth block of kc input channels, the B panels (kc x Cog, NR wide) at
// wp + ((grp*RS + tap)*nkb + b)*Npad*kc; with `flip`, tap t reads the panels of
// tap RS-1-t (rot180). bias (per output channel) or null.
template <typename T>
void lanes_product(const LanesGeom& g, const GemmUkernel<T>& uk, int64_t kc, int64_t nc, const T* src, const T* wp,
                   bool flip, const T* bias, T* dst) {
  const MoveKernels<T>& mv = kernel_table().move<T>();
  const int mr = uk.mr, nr = uk.nr, nt = num_threads();
  const int64_t Cig = g.Cig(), Cog = g.Cog(), RS = g.R * g.S, HWo = g.Ho * g.Wo, sz = sizeof(T);
  const int64_t nkb = cdiv(Cig, kc), Npad = round_up(Cog, nr);
  // Items: (group, tile of output pixels, part of the output channels); a
  // C tile (pixels*MR x Npad) in half of L2.
  const int64_t max_pix = std::clamp<int64_t>(cache_sizes().l2 / 2 / (Npad * mr * sz), 1, 1024);
  const PixelTiles pt(HWo, 1, max_pix, g.groups, Cog, nr, nt, false);
  const int64_t tpix = cdiv(pt.panels, pt.count);

  AlignedBuffer<T> xt(int64_t(mr) * g.Ci * g.Hi * g.Wi);
  auto ws = scratch<T>(nt, 0, 0, tpix * mr * Npad);
  for (int64_t n0 = 0; n0 < g.N; n0 += mr) {
    build_lanes(g, src, n0, mr, xt.data());
    const int64_t lanes = std::min<int64_t>(mr, g.N - n0);
    parallel_for(pt.items(g.groups), [&](int64_t item) {
      T* C = ws[omp_get_thread_num()].c.data();
      int64_t grp, t, r, pix0, npix, m0, m;
      pt.item(item, grp, t, r);
      pt.tile(t, pix0, npix);
      pt.rows_of(r, Cog, nr, m0, m);
      const int64_t ldc = round_up(m, nr);
      for (int64_t i = 0; i < npix * mr; ++i) {
        if (bias) std::memcpy(C + i * ldc, bias + grp * Cog + m0, size_t(m) * sz);
        else std::fill(C + i * ldc, C + i * ldc + m, T(0));
      }
      for (int64_t tap = 0; tap < RS; ++tap) {
        const int64_t oh = (tap / g.S) * g.dh - g.pt, ow = (tap % g.S) * g.dw - g.pl;
        for (int64_t b = 0; b < nkb; ++b) {
          const int64_t c0 = b * kc, k = std::min(kc, Cig - c0);
          const T* B = wp + ((grp * RS + (flip ? RS - 1 - tap : tap)) * nkb + b) * Npad * kc;
          const T* A0 = xt.data() + (grp * Cig + c0) * mr;
          // The B block of nc channels stays in L2 while the pixels' A panels pass.
          for (int64_t j0 = 0; j0 < m; j0 += nc) {
            const int64_t j1 = std::min(m, j0 + nc);
            for (int64_t i = 0; i < npix; ++i) {
              const int64_t pix = pix0 + i, hh = pix / g.Wo * g.sh + oh, ww = pix % g.Wo * g.sw + ow;
              if (hh < 0 || hh >= g.Hi || ww < 0 || ww >= g.Wi) continue;  // padding for every lane
              const T* A = A0 + (hh * g.Wi + ww) * g.Ci * mr;
              T* Crow = C + i * mr * ldc;
              for (int64_t j = j0; j < j1; j += nr)
                uk.run(k, A, B + (m0 + j) * k, Crow + j, ldc, mr, std::min<int64_t>(nr, j1 - j), true);
            }
          }
        }
      }
      // C row (i, lane) holds output pixel pix0 + i of image n0 + lane.
      for (int64_t l = 0; l < lanes; ++l)
        mv.transpose(C + l * ldc, mr * ldc, npix, m, dst + ((n0 + l) * g.Co + grp * Cog + m0) * HWo + pix0, HWo);
    });
  }
}

// The weights as lanes_product reads them: per group, tap and depth block b,
// B panels (NR wide) of depth d = b*kc + p and column j:
//   forward   B(d, j) = W[g*Kg + j, d, tap]      (depth: input channels)
//   bwd_data  B(d, j) = W[g*Kg + d, j, tap]      (depth: the forward's output
//                                                 channels; lanes_product reads
//                                                 tap RS-1-t for rot180's tap t)
// For one depth d and NR columns, the RS taps' values are an NR x RS block of W
// (rows j: forward, W[j, d, :], NR rows apart; bwd_data, W[d, j, :], one run):
// one call of the ISA's transpose writes its RS rows straight into the RS taps'
// panels (tap_step apart). Items are (group, depth block, panel of NR columns).
template <typename T>
AlignedBuffer<T> pack_lanes_weights(const ConvParams& p, const T* w, bool backward, int nr, int64_t kc) {
  const MoveKernels<T>& mv = kernel_table().move<T>();
  const int64_t RS = p.R * p.S, Kg = p.Kg(), Cg = p.Cg();
  const int64_t in_g = backward ? Kg : Cg, out_g = backward ? Cg : Kg;
  const int64_t nkb = cdiv(in_g, kc), Npad = round_up(out_g, nr), blk = Npad * kc, tap_step = nkb * blk;
  AlignedBuffer<T> wp(p.groups * RS * nkb * blk);
  const int64_t panels = cdiv(out_g, nr);
  parallel_for(p.groups * nkb * panels, [&](int64_t i) {
    const int64_t grp = i / (nkb * panels), b = i / panels % nkb, j0 = i % panels * nr;
    const int64_t d0 = b * kc, k = std::min(kc, in_g - d0), cols = std::min<int64_t>(nr, out_g - j0);
    T* panel = wp.data() + (grp * RS * nkb + b) * blk + j0 * k;  // tap t's panel at + t*tap_step
    for (int64_t d = 0; d < k; ++d) {
      if (!backward) mv.transpose(w + ((grp * Kg + j0) * Cg + d0 + d) * RS, Cg * RS, cols, RS, panel + d * nr, tap_step);
      else mv.transpose(w + ((grp * Kg + d0 + d) * Cg + j0) * RS, RS, cols, RS, panel + d * nr, tap_step);
      for (int64_t t = 0; t < RS && cols < nr; ++t)  // the last panel's columns past out_g
        std::fill(panel + t * tap_step + d * nr + cols, panel + t * tap_step + (d + 1) * nr, T(0));
    }
  });
  return wp;
}

// Forward runs every stride; bwd_data only stride 1 (no phase split).
bool lanes_fits(const ConvParams& p, bool backward) {
  return !backward || (p.stride_h == 1 && p.stride_w == 1);
}

// Pairs (output position, tap) along one dimension whose input position
// o*stride - pad + tap*dil lies inside [0, in): the ones lanes multiplies.
int64_t valid_pairs(int64_t out, int64_t in, int64_t taps, int64_t stride, int64_t dil, int64_t pad) {
  int64_t n = 0;
  for (int64_t t = 0; t < taps; ++t)
    for (int64_t o = 0; o < out; ++o) {
      const int64_t i = o * stride - pad + t * dil;
      n += i >= 0 && i < in;
    }
  return n;
}

}  // namespace

// Auto takes lanes where skipping the padding and packing nothing per tile
// save more than its overheads cost, measured against the other two layouts on
// the training suite's dense layers (batch 8; lanes time / the old auto's at
// 1 thread, then at 2, interleaved medians; +-5% is noise on this machine):
//   - stride 1 with taps in the padding: resnet.l4.3x3 (7x7 planes, useful
//     work 81.9%) 0.82 / 0.83 (fwd / bwd_data); 14x14 (90.7%) 0.87-0.95; 28x28
//     (95.3%) 0.93-0.99; dilation 4 on 28x28 0.83; on 56x56 (97.6%) resnet.l1.3x3
//     (64 channels) 0.97 / 0.90 and 0.94 / 0.92, vgg11.c3 0.99 / 0.96 and
//     1.01 / 0.94, vgg11.c4 0.96 / 0.94 and 0.96 / 0.93 (above the xt cap);
//     112x112 (98.8%) vgg11.c2 1.03 / 0.97 and 0.98 / 0.99;
//   - stride 2 forward: resnet.l4.3x3s2 (14x14 input, 90.7%) 0.92 and 0.83,
//     l3.3x3s2 (95.3%) 0.91 and 1.05, l2.3x3s2 (97.6%, 64 channels) 1.04 and
//     1.04, unpadded wav2vec2 1-D layers 1.02-1.22;
//   - 1x1 layers (nothing to skip, and the other layouts pack nothing): 1.1-2.0.
// (Until the rearrangement became a vectorized transpose, 64-channel and 56x56
// layers lost 2-13% and auto required >= 128 channels and <= 96% useful work.)
// Hence: R*S > 1, >= 64 channels per tap (the fewest measured), a rearranged
// block of MR images of at most 16 MiB, and useful work (counting the lanes past
// the batch as work) <= 98% at stride 1, <= 93% at larger strides.
bool use_lanes(const ConvParams& p, bool backward, int mr, int sz) {
  if (!lanes_fits(p, backward)) return false;
  const Layout f = forced_layout();
  if (f != Layout::Auto) return f == Layout::BatchLanes;
  if (p.N == 0 || p.R * p.S == 1) return false;
  const int64_t depth = backward ? p.Kg() : p.Cg();
  const int64_t xt_bytes = int64_t(mr) * (backward ? p.K * p.P() * p.Q() : p.C * p.H * p.W) * sz;
  if (depth < 64 || xt_bytes > (int64_t(16) << 20)) return false;
  const double useful =
      double(valid_pairs(p.P(), p.H, p.R, p.stride_h, p.dil_h, p.pad_top)) / double(p.P() * p.R) *
      double(valid_pairs(p.Q(), p.W, p.S, p.stride_w, p.dil_w, p.pad_left)) / double(p.Q() * p.S);
  const bool unit_stride = p.stride_h == 1 && p.stride_w == 1;
  return useful * double(round_up(p.N, mr)) / double(p.N) <= (unit_stride ? 0.98 : 0.93);
}

template <typename T>
void forward_lanes(const ConvParams& p, const T* x, const T* w, const T* bias, T* y) {
  const GemmUkernel<T>& uk = kernel_table().gemm_for<T>(p.Kg());
  const GemmBlocking bl = gemm_blocking(uk);
  const int64_t kc = std::min(bl.kc, p.Cg());
  const AlignedBuffer<T> wp = pack_lanes_weights(p, w, false, uk.nr, kc);
  const LanesGeom g{p.N, p.C, p.H, p.W, p.K, p.P(), p.Q(), p.R, p.S, p.stride_h, p.stride_w,
                    p.dil_h, p.dil_w, p.pad_top, p.pad_left, p.groups};
  lanes_product(g, uk, kc, bl.nc, x, wp.data(), false, bias, y);
}

template <typename T>
void backward_input_lanes(const ConvParams& p, const T* dy, const T* w, T* dx) {
  if (!lanes_fits(p, true)) throw std::logic_error("backward_input_lanes: stride must be 1");
  const GemmUkernel<T>& uk = kernel_table().gemm_for<T>(p.Cg());
  const GemmBlocking bl = gemm_blocking(uk);
  const int64_t kc = std::min(bl.kc, p.Kg());
  const AlignedBuffer<T> wp = pack_lanes_weights(p, w, true, uk.nr, kc);
  // dx[h] = sum_r dy[h + pad - r*d] W[r] = sum_r' dy[h - (d*(R-1) - pad) + r'*d] W[R-1-r'].
  const LanesGeom g{p.N, p.K, p.P(), p.Q(), p.C, p.H, p.W, p.R, p.S, 1, 1,
                    p.dil_h, p.dil_w, p.dil_h * (p.R - 1) - p.pad_top, p.dil_w * (p.S - 1) - p.pad_left, p.groups};
  lanes_product<T>(g, uk, kc, bl.nc, dy, wp.data(), true, nullptr, dx);
}

template void forward_lanes<float>(const ConvParams&, const float*, const float*, const float*, float*);
template void forward_lanes<double>(const ConvParams&, const double*, const double*, const double*, double*);
template void backward_input_lanes<float>(const ConvParams&, const float*, const float*, float*);
template void backward_input_lanes<double>(const ConvParams&, const double*, const double*, double*);

}  // namespace im2col
}  // namespace convbp
