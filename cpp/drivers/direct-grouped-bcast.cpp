// The direct route's grouped passes with a group's channels in the vector lanes
// and every input value broadcast (kernels/direct-bcast.inl says why). A task
// copies the planes it reads into a zero-padded buffer, so every tap of every
// output pixel is an offset (poff[q] + toff[u]) and the kernel needs no bounds;
// the kernel writes pixels of L lanes, transposed back to planes at the end.
// Weights are packed once per call into tap-major vectors of L channels (zeros
// past the group's last channel).
//
//   forward (DESIGN.md): y[n,k,p,q] = b[k] + sum_{c,r,s} w[k,c,r,s] x[n,c, p*sh + r*dh - top, q*sw + s*dw - left]
//     lanes: L output channels k of a group; taps u = (c, r, s).
//   backward-input, the seeds' gather form (Diba eqs. 24-29: dx is the full
//   correlation of the stride-dilated dy with rot180(w)), split by output phase
//   (h mod sh, v mod sw) so only the taps that land on real dy entries exist
//   (direct-geometry.hpp: phase_taps):
//     dx[n,c, fh + sh*i, fw + sw*j] = sum over k and the phase's taps (r, s) of w[k,c,r,s] dy[n,k, base_r + i, base_s + j]
//     lanes: L input channels c of a group; taps u = (k, phase tap).
//   backward-weight (Diba eq. 15): dw[k,c,r,s] = sum_{n,p,q} dy[n,k,p,q] x[n,c, p*sh + r*dh - top, q*sw + s*dw - left]
//     lanes: L output channels k; taps u = (c, r, s); dots over the pixels.
//
// Forward and backward-input tasks are (image, group); backward-weight tasks are
// (group, block of L output channels[, chunk of images]) walking their images in
// order and adding the sums in double, chunks added in order at the end: no two
// tasks write one element, and the result does not depend on the thread count.
#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "drivers/conv-direct.hpp"
#include "drivers/direct-geometry.hpp"
#include "drivers/parallel.hpp"
#include "drivers/workspace.hpp"

namespace convbp::direct {

namespace {

// Elements of one task's padded planes above which the route declines (the
// buffer is per thread; 2^20 floats = 4 MB).
constexpr int64_t kMaxPlaneElements = int64_t(1) << 20;
// float32 dots: pixels per partial sum before it is added in double.
constexpr int64_t kFlushPixels = 4096;

// Input rows (or columns) that `out` outputs read in the forward form: the
// padded plane's extent.
int64_t forward_extent(int64_t out, int64_t stride, int64_t taps, int64_t dil) {
  return (out - 1) * stride + (taps - 1) * dil + 1;
}

// The copy plan that fills a task's buffer: `count` planes of size_h x size_w
// (plane_stride apart, offsets relative to the first) into rows x cols buffers,
// plane pixel (h, v) at (h + top, v + left), zeros around; the parts that land
// outside the buffer are never read by the kernel and not copied. The plan is
// built once per call and each task runs it with the ISA's copy_runs. (It
// replaced a copy and two fills per row as library calls, 10% of
// resnext50.l3.g32's forward time at 1 thread.) Where the zeros come as many
// short runs (a column or two between rows), one run zeroing the whole buffer
// first costs less: a run's own work is worth about 8 vector stores here.
// (resnext50.l3.g32: 464 runs a task down to 225.)
std::vector<CopyRun> pad_plan(int64_t plane_stride, int64_t count, int64_t size_h, int64_t size_w, int64_t rows,
                              int64_t cols, int64_t top, int64_t left) {
  std::vector<CopyRun> runs;
  auto zero = [&runs](int64_t dst, int64_t len) {  // merged with a zero run that ends at dst
    if (len <= 0) return;
    if (!runs.empty() && runs.back().step == 0 && runs.back().dst + runs.back().len == dst)
      runs.back().len += int32_t(len);
    else
      runs.push_back(CopyRun{dst, 0, int32_t(len), 0});
  };
  const int64_t v0 = std::max<int64_t>(0, -left), v1 = std::min(size_w, cols - left);
  const int64_t h0 = std::max<int64_t>(0, -top), h1 = std::min(size_h, rows - top);
  for (int64_t c = 0; c < count; ++c) {
    const int64_t b = c * rows * cols;
    if (v0 >= v1 || h0 >= h1) {
      zero(b, rows * cols);
      continue;
    }
    zero(b, (h0 + top) * cols);
    for (int64_t h = h0; h < h1; ++h) {
      const int64_t row = b + (h + top) * cols;
      zero(row, v0 + left);
      runs.push_back(CopyRun{row + v0 + left, c * plane_stride + h * size_w + v0, int32_t(v1 - v0), 1});
      zero(row + v1 + left, cols - v1 - left);
    }
    zero(b + (h1 + top) * cols, (rows - h1 - top) * cols);
  }
  constexpr int64_t kRunCost = 128;  // elements: 8 float32 vectors
  int64_t zero_cost = 0;
  for (const CopyRun& r : runs)
    if (r.step == 0) zero_cost += kRunCost + r.len;
  const int64_t total = count * rows * cols;
  if (zero_cost > kRunCost + total && total <= INT32_MAX) {
    std::vector<CopyRun> copies{CopyRun{0, 0, int32_t(total), 0}};
    for (const CopyRun& r : runs)
      if (r.step != 0) copies.push_back(r);
    return copies;
  }
  return runs;
}

// The length of the runs `off` falls into, the kernels' DirectBcastArgs::run and
// tap_run: off[i + 1] = off[i] + step inside each block of that length (blocks
// from 0, n a multiple of it); 1 where there is no longer one, 0 when n is.
int64_t uniform_run(const std::vector<int64_t>& off, int64_t begin, int64_t n, int64_t step) {
  if (n <= 0) return 0;
  const int64_t* o = off.data() + begin;
  int64_t r = 1;
  while (r < n && o[r] == o[r - 1] + step) ++r;
  if (n % r != 0) return 1;
  for (int64_t i = 1; i < n; ++i)
    if (i % r != 0 && o[i] != o[i - 1] + step) return 1;
  return r;
}

// The forward-form geometry (forward, backward-weight): the padded planes cover
// every input the P x Q outputs read; pixel (p, q) starts at p*sh rows, q*sw
// columns; tap (c, r, s) adds c planes, r*dh rows, s*dw columns.
struct ForwardGeom {
  int64_t rows = 0, cols = 0;
  std::vector<int64_t> poff, ooff, toff;
  int64_t plane() const { return rows * cols; }
};
ForwardGeom forward_geom(const ConvParams& p) {
  ForwardGeom g;
  g.rows = forward_extent(p.P(), p.stride_h, p.R, p.dil_h);
  g.cols = forward_extent(p.Q(), p.stride_w, p.S, p.dil_w);
  for (int64_t i = 0; i < p.P(); ++i)
    for (int64_t j = 0; j < p.Q(); ++j) {
      g.poff.push_back(i * p.stride_h * g.cols + j * p.stride_w);
      g.ooff.push_back(int64_t(g.ooff.size()));
    }
  for (int64_t c = 0; c < p.Cg(); ++c)
    for (int64_t r = 0; r < p.R; ++r)
      for (int64_t s = 0; s < p.S; ++s) g.toff.push_back(c * g.plane() + r * p.dil_h * g.cols + s * p.dil_w);
  return g;
}

// Packs the weights of (group g, lane block b) as taps x L vectors into
// out[((g * blocks + b) * taps + u) * L + l] = at(g, b*L + l, u), zero past
// `lanes_in_group` (groups * blocks * taps * L elements).
template <typename T, class At>
void pack_lanes(int64_t groups, int64_t lanes_in_group, int64_t taps, int L, T* out, At at) {
  const int64_t blocks = ceil_div(lanes_in_group, L);
  parallel_for(groups * blocks, [&](int64_t gb) {
    const int64_t g = gb / blocks, l0 = gb % blocks * L, ln = std::min<int64_t>(L, lanes_in_group - l0);
    T* d = out + gb * taps * L;
    for (int64_t u = 0; u < taps; ++u)
      for (int64_t l = 0; l < L; ++l) d[u * L + l] = l < ln ? at(g, l0 + l, u) : T(0);
  });
}

}  // namespace

// Where broadcasting beats the rows and dots kernels, measured on this machine
// (AMD Zen 4, AVX-512, float32 so L = 16, one thread; grouped 3x3 layers with
// C/groups = K/groups = 4..64 on 7x7 to 56x56 planes, min of 7 interleaved runs;
// time of im2col / time of rows-dots -> broadcast):
//   - lanes at least half full (C/groups >= 8): forward and backward-input faster
//     everywhere, e.g. 14x14 C/groups 16: fwd 0.77 -> 1.61, bwd_data 0.92 -> 2.31;
//     C/groups 8: fwd 1.04 -> 1.37, bwd_data 0.99 -> 1.91;
//   - backward-weight with half the lanes idle (C/groups 8) loses on planes of 14x14
//     and up (28x28: 1.91 -> 1.50, 56x56: 2.05 -> 1.37: the dots kernel's vectors run
//     along full rows there) and wins below (7x7: 0.85 -> 1.73); with full lanes it
//     wins everywhere (14x14 C/groups 16: 0.85 -> 1.55);
//   - a quarter of the lanes (C/groups 4) would waste 3/4 of each FMA: declined.
//   - dense stems' backward-weight (C*R*S <= kDenseMaxReduction over several taps,
//     output channels in the lanes: dy is transposed to pixels of L channels and x
//     padded once per image and task), against the dots kernel's rows (1 / 2
//     threads, batch 8, AMD Zen 5, interleaved): MobileNet's 3->32 3x3 s2 stem
//     0.80 / 0.77 of its time, 3->64 3x3 s2 0.81 / 0.79, VGG's 3->64 3x3 s1
//     0.91 / 1.05, wav2vec 2.0's 1->512 k10 s5 0.93 / 0.95. Their forward passes
//     lose (1.15-1.62x: the output is written twice, once transposed).
bool bcast_fits(const ConvParams& p, Pass pass, int lanes) {
  const bool stem = p.groups == 1 && pass == Pass::BackwardWeight && p.R * p.S > 1 &&
                    p.Cg() * p.R * p.S <= kDenseMaxReduction;
  if (p.groups > 1 && p.Cg() == 1) return false;  // depthwise: kernels of its own
  if (p.groups == 1 && !stem) return false;       // dense: im2col
  const bool bwd_input = pass == Pass::BackwardInput;
  const int64_t lane_channels = bwd_input ? p.Cg() : p.Kg();
  if (2 * lane_channels < lanes) return false;
  if (pass == Pass::BackwardWeight && lane_channels < lanes && p.P() * p.Q() >= 14 * 14) return false;
  // The task's padded planes (backward-input: dy planes padded by the taps' reach).
  const int64_t planes = bwd_input ? p.Kg() * (p.P() + p.R * p.dil_h) * (p.Q() + p.S * p.dil_w)
                                   : p.Cg() * forward_extent(p.P(), p.stride_h, p.R, p.dil_h) *
                                         forward_extent(p.Q(), p.stride_w, p.S, p.dil_w);
  return planes <= kMaxPlaneElements;
}

template <typename T>
void forward_bcast(const KernelTable& kt, const ConvParams& p, const T* x, const T* w, const T* bias, T* y) {
  const DirectKernels<T>& dk = kt.direct<T>();
  const int L = dk.bcast_lanes;
  const int64_t PQ = p.P() * p.Q(), HW = p.H * p.W, Cg = p.Cg(), Kg = p.Kg(), G = p.groups;
  const int64_t U = Cg * p.R * p.S, kblocks = ceil_div(Kg, L);
  const ForwardGeom geo = forward_geom(p);
  const int64_t run = uniform_run(geo.poff, 0, PQ, p.stride_w), tap_run = uniform_run(geo.toff, 0, U, 1);
  AlignedBuffer<T> wp(G * kblocks * U * L);
  pack_lanes<T>(G, Kg, U, L, wp.data(), [&](int64_t g, int64_t k, int64_t u) { return w[(g * Kg + k) * U + u]; });
  const std::vector<CopyRun> pad = pad_plan(HW, Cg, p.H, p.W, geo.rows, geo.cols, p.pad_top, p.pad_left);
  parallel_for(p.N * G, [&](int64_t task) {
    const int64_t n = task / G, g = task % G;
    T* buf = thread_scratch<T>(Cg * geo.plane() + PQ * L + L);
    T* out = buf + Cg * geo.plane();
    T* bb = out + PQ * L;
    kt.move<T>().copy_runs(pad.data(), int64_t(pad.size()), x + (n * p.C + g * Cg) * HW, buf);
    for (int64_t kb = 0; kb < kblocks; ++kb) {
      const int64_t k0 = g * Kg + kb * L, kn = std::min<int64_t>(L, Kg - kb * L);
      if (bias) {
        std::fill(bb, bb + L, T(0));
        std::copy(bias + k0, bias + k0 + kn, bb);
      }
      DirectBcastArgs<T> a;
      a.npix = PQ, a.ntaps = U;
      a.poff = geo.poff.data(), a.toff = geo.toff.data(), a.ooff = geo.ooff.data();
      a.src = buf, a.w = wp.data() + (g * kblocks + kb) * U * L, a.bias = bias ? bb : nullptr;
      a.out = out, a.run = run, a.run_step = p.stride_w, a.tap_run = tap_run;
      dk.bcast_rows(a);
      kt.move<T>().transpose(out, L, PQ, kn, y + (n * p.K + k0) * PQ, PQ);
    }
  });
}

template <typename T>
void backward_input_bcast(const KernelTable& kt, const ConvParams& p, const T* dy, const T* w, T* dx) {
  const DirectKernels<T>& dk = kt.direct<T>();
  const int L = dk.bcast_lanes;
  const int64_t P = p.P(), Q = p.Q(), H = p.H, W = p.W, Cg = p.Cg(), Kg = p.Kg(), G = p.groups, RS = p.R * p.S;
  const int64_t sh = p.stride_h, sw = p.stride_w, cblocks = ceil_div(Cg, L);
  const PixelPhases pp = pixel_phases(p);
  const std::vector<PixelPhase>& phases = pp.phases;
  const int64_t rmin = pp.rmin, cmin = pp.cmin;
  const int64_t rows = pp.buffer_rows(), cols = pp.buffer_cols(), plane = rows * cols;
  // All phases' pixels in one list, taps u = (k, phase tap) and packed weights
  // (group, lane block, u) per phase, each phase a slice of the three.
  // A phase's taps in order of the dy element they read (rbase, then cbase), so
  // that a kernel row's taps are a tap run (the rot180 lists them backwards).
  std::vector<int64_t> poff, ooff, toff, pix0, tap0, wq0, runs, tap_runs;
  std::vector<std::vector<size_t>> order(phases.size());
  int64_t wtotal = 0;
  for (size_t k = 0; k < phases.size(); ++k) {
    const PixelPhase& ph = phases[k];
    pix0.push_back(int64_t(poff.size()));
    tap0.push_back(int64_t(toff.size()));
    wq0.push_back(wtotal);
    for (int64_t i = 0; i < ph.rows; ++i)
      for (int64_t j = 0; j < ph.cols; ++j) {
        poff.push_back(i * cols + j);
        ooff.push_back((ph.fh + sh * i) * W + ph.fw + sw * j);
      }
    std::vector<size_t>& ord = order[k];
    for (size_t t = 0; t < ph.rs.size(); ++t) ord.push_back(t);
    std::sort(ord.begin(), ord.end(), [&ph](size_t i, size_t j) {
      return ph.rbase[i] != ph.rbase[j] ? ph.rbase[i] < ph.rbase[j] : ph.cbase[i] < ph.cbase[j];
    });
    for (int64_t c = 0; c < Kg; ++c)
      for (size_t t : ord) toff.push_back(c * plane + (ph.rbase[t] - rmin) * cols + (ph.cbase[t] - cmin));
    runs.push_back(uniform_run(poff, pix0.back(), int64_t(poff.size()) - pix0.back(), 1));
    tap_runs.push_back(uniform_run(toff, tap0.back(), int64_t(toff.size()) - tap0.back(), 1));
    wtotal += G * cblocks * Kg * int64_t(ph.rs.size()) * L;
  }
  pix0.push_back(int64_t(poff.size()));
  AlignedBuffer<T> wq(wtotal);
  for (size_t k = 0; k < phases.size(); ++k) {
    const PixelPhase& ph = phases[k];
    const std::vector<size_t>& ord = order[k];
    const int64_t nt = int64_t(ph.rs.size());
    pack_lanes<T>(G, Cg, Kg * nt, L, wq.data() + wq0[k], [&](int64_t g, int64_t c, int64_t u) {
      return w[((g * Kg + u / nt) * Cg + c) * RS + ph.rs[ord[size_t(u % nt)]]];
    });
  }
  const std::vector<CopyRun> pad = pad_plan(P * Q, Kg, P, Q, rows, cols, -rmin, -cmin);
  parallel_for(p.N * G, [&](int64_t task) {
    const int64_t n = task / G, g = task % G;
    T* buf = thread_scratch<T>(Kg * plane + H * W * L);
    T* out = buf + Kg * plane;
    kt.move<T>().copy_runs(pad.data(), int64_t(pad.size()), dy + (n * p.K + g * Kg) * P * Q, buf);
    for (int64_t cb = 0; cb < cblocks; ++cb) {
      const int64_t c0 = g * Cg + cb * L, cn = std::min<int64_t>(L, Cg - cb * L);
      for (size_t k = 0; k < phases.size(); ++k) {
        const int64_t nt = int64_t(phases[k].rs.size());
        DirectBcastArgs<T> a;
        a.npix = pix0[k + 1] - pix0[k], a.ntaps = Kg * nt;
        a.poff = poff.data() + pix0[k], a.ooff = ooff.data() + pix0[k], a.toff = toff.data() + tap0[k];
        a.src = buf, a.w = wq.data() + wq0[k] + (g * cblocks + cb) * Kg * nt * L;
        a.out = out, a.run = runs[k], a.run_step = 1, a.tap_run = tap_runs[k];
        dk.bcast_rows(a);
      }
      kt.move<T>().transpose(out, L, H * W, cn, dx + (n * p.C + c0) * H * W, H * W);
    }
  });
}

template <typename T>
void backward_weight_bcast(const KernelTable& kt, const ConvParams& p, const T* x, const T* dy, T* dw) {
  const DirectKernels<T>& dk = kt.direct<T>();
  const int L = dk.bcast_lanes;
  const int64_t PQ = p.P() * p.Q(), HW = p.H * p.W, Cg = p.Cg(), Kg = p.Kg(), G = p.groups;
  const int64_t U = Cg * p.R * p.S, kblocks = ceil_div(Kg, L);
  const ForwardGeom geo = forward_geom(p);
  const int64_t run = uniform_run(geo.poff, 0, PQ, p.stride_w), tap_run = uniform_run(geo.toff, 0, U, 1);
  // Partial sums of whole runs (the kernel's pixel pairs stay inside one).
  const int64_t flush = std::is_same<T, float>::value
                            ? (run > 0 && run <= kFlushPixels ? kFlushPixels / run * run : kFlushPixels)
                            : std::max<int64_t>(PQ, p.N * PQ);
  const std::vector<CopyRun> pad = pad_plan(HW, Cg, p.H, p.W, geo.rows, geo.cols, p.pad_top, p.pad_left);
  // Few (group, lane block) tasks (a dense stem: 2 for 32 output channels) would
  // leave threads idle, so the batch is also split into chunks, each summing into
  // its own doubles, added in chunk order at the end. The chunking depends on the
  // shape only: results do not depend on the thread count.
  const int64_t blocks = G * kblocks, chunks = blocks < 8 ? std::clamp<int64_t>(p.N, 1, 8) : 1;
  const int64_t per_chunk = ceil_div(std::max<int64_t>(p.N, 1), chunks);
  std::vector<double> sums(size_t(blocks * chunks * U * L), 0.0);
  parallel_for(blocks * chunks, [&](int64_t task) {
    const int64_t block = task / chunks, chunk = task % chunks, g = block / kblocks;
    const int64_t k0 = g * Kg + block % kblocks * L, kn = std::min<int64_t>(L, Kg - block % kblocks * L);
    T* buf = thread_scratch<T>(Cg * geo.plane() + PQ * L + U * L);
    T* dyb = buf + Cg * geo.plane();
    T* part = dyb + PQ * L;
    double* sum = sums.data() + task * U * L;
    if (kn < L) std::fill(dyb, dyb + PQ * L, T(0));  // lanes past kn stay zero (the transpose writes kn)
    // `part` sums up to `flush` pixels, of as many images as fit, before it goes
    // to `sum` (a flush per image was 6% of resnext50.l3.g32's time).
    int64_t pending = 0;
    auto drain = [&] {
      for (int64_t i = 0; i < U * L; ++i) sum[i] += double(part[i]);
      pending = 0;
    };
    for (int64_t n = chunk * per_chunk; n < std::min(p.N, (chunk + 1) * per_chunk); ++n) {
      kt.move<T>().copy_runs(pad.data(), int64_t(pad.size()), x + (n * p.C + g * Cg) * HW, buf);
      kt.move<T>().transpose(dy + (n * p.K + k0) * PQ, PQ, kn, PQ, dyb, L);
      for (int64_t q0 = 0; q0 < PQ; q0 += flush) {
        DirectBcastArgs<T> a;
        a.npix = std::min(flush, PQ - q0), a.ntaps = U;
        if (pending > 0 && pending + a.npix > flush) drain();
        a.poff = geo.poff.data() + q0, a.toff = geo.toff.data();
        a.src = buf, a.dy = dyb + q0 * L, a.dw = part, a.accumulate = pending > 0;
        a.run = run > 0 && a.npix % run == 0 ? run : 0, a.run_step = p.stride_w, a.tap_run = tap_run;
        dk.bcast_dots(a);
        pending += a.npix;
      }
    }
    if (pending > 0) drain();
  });
  parallel_for(blocks, [&](int64_t block) {
    const int64_t g = block / kblocks, k0 = g * Kg + block % kblocks * L, kn = std::min<int64_t>(L, Kg - block % kblocks * L);
    const double* bs = sums.data() + block * chunks * U * L;
    for (int64_t l = 0; l < kn; ++l)
      for (int64_t u = 0; u < U; ++u) {
        double t = 0.0;
        for (int64_t c = 0; c < chunks; ++c) t += bs[(c * U + u) * L + l];
        dw[(k0 + l) * U + u] = T(t);
      }
  });
}

#define CONVBP_INSTANTIATE(T)                                                                                   \
  template void forward_bcast<T>(const KernelTable&, const ConvParams&, const T*, const T*, const T*, T*); \
  template void backward_input_bcast<T>(const KernelTable&, const ConvParams&, const T*, const T*, T*);     \
  template void backward_weight_bcast<T>(const KernelTable&, const ConvParams&, const T*, const T*, T*);
CONVBP_INSTANTIATE(float)
CONVBP_INSTANTIATE(double)
#undef CONVBP_INSTANTIATE

}  // namespace convbp::direct
