#include "drivers/direct-geometry.hpp"

#include <algorithm>

#include "drivers/parallel.hpp"

namespace convbp::direct {

SplitGeom split_geom(const ConvParams& p) {
  SplitGeom g;
  g.copy = p.stride_w > 1;
  g.pitch = (p.W + p.stride_w - 1) / p.stride_w;
  g.phase = p.H * g.pitch;
  g.plane = p.stride_w * g.phase;
  g.in_plane = p.H * p.W;
  if (!g.copy) return g;
  for (int64_t f = 0; f < p.stride_w && f < p.W; ++f) {
    const int64_t cols = phase_count(p.W, p.stride_w, f);
    for (int64_t h = 0; h < p.H; ++h)
      g.runs.push_back(CopyRun{f * g.phase + h * g.pitch, h * p.W + f, int32_t(cols), int32_t(p.stride_w)});
  }
  return g;
}

template <typename T>
void split_planes(const KernelTable& kt, const SplitGeom& g, const T* x, int64_t count, T* out) {
  const auto copy = kt.move<T>().copy_runs;
  for (int64_t z = 0; z < count; ++z) copy(g.runs.data(), int64_t(g.runs.size()), x + z * g.in_plane, out + z * g.plane);
}

template <typename T>
void merge_phases(const T* src, int64_t phase_stride, int64_t sw, int64_t cols, T* out) {
  if (sw == 2) {  // the common stride: a loop the compiler vectorizes (unpack pairs)
    const T* __restrict s0 = src;
    const T* __restrict s1 = src + phase_stride;
    T* __restrict d = out;
    const int64_t pairs = cols / 2;
    for (int64_t j = 0; j < pairs; ++j) {
      d[2 * j] = s0[j];
      d[2 * j + 1] = s1[j];
    }
    if (cols % 2) d[cols - 1] = s0[pairs];
    return;
  }
  for (int64_t f = 0; f < sw && f < cols; ++f) {
    const int64_t count = phase_count(cols, sw, f);
    for (int64_t j = 0; j < count; ++j) out[j * sw + f] = src[f * phase_stride + j];
  }
}

template void merge_phases(const float*, int64_t, int64_t, int64_t, float*);
template void merge_phases(const double*, int64_t, int64_t, int64_t, double*);
template void split_planes(const KernelTable&, const SplitGeom&, const float*, int64_t, float*);
template void split_planes(const KernelTable&, const SplitGeom&, const double*, int64_t, double*);

std::vector<ColTap> forward_col_taps(const ConvParams& p, int64_t phase_stride) {
  std::vector<ColTap> taps(static_cast<size_t>(p.S));
  const int64_t Q = p.Q();
  for (int64_t s = 0; s < p.S; ++s) {
    const int64_t o = s * p.dil_w - p.pad_left;  // input column of output 0
    ColTap& t = taps[size_t(s)];
    t.offset = mod(o, p.stride_w) * phase_stride + floor_div(o, p.stride_w);
    valid_range(o, p.stride_w, p.W, Q, t.lo, t.hi);
  }
  return taps;
}

std::vector<RowRun> row_runs(const std::vector<int64_t>& lo, const std::vector<int64_t>& hi, int64_t n) {
  std::vector<int64_t> cuts = {0, n};
  for (size_t r = 0; r < lo.size(); ++r) {
    if (lo[r] > 0 && lo[r] < n) cuts.push_back(lo[r]);
    if (hi[r] > 0 && hi[r] < n) cuts.push_back(hi[r]);
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  std::vector<RowRun> runs;
  for (size_t k = 0; k + 1 < cuts.size(); ++k) {
    RowRun run;
    run.a = cuts[k];
    run.b = cuts[k + 1];
    for (size_t r = 0; r < lo.size(); ++r)
      if (lo[r] <= run.a && run.b <= hi[r]) run.rs.push_back(int64_t(r));
    runs.push_back(std::move(run));
  }
  return runs;
}

std::vector<RowRun> forward_row_runs(const ConvParams& p) {
  std::vector<int64_t> lo(size_t(p.R)), hi(size_t(p.R));
  for (int64_t r = 0; r < p.R; ++r)
    valid_range(r * p.dil_h - p.pad_top, p.stride_h, p.H, p.P(), lo[size_t(r)], hi[size_t(r)]);
  return row_runs(lo, hi, p.P());
}

std::vector<PhaseTap> phase_taps(int64_t phase, int64_t stride, int64_t dil, int64_t pad_before, int64_t k,
                                 int64_t size, int64_t out) {
  std::vector<PhaseTap> taps(static_cast<size_t>(k));
  const int64_t count = phase_count(size, stride, phase);
  for (int64_t r = 0; r < k; ++r) {
    const int64_t u = phase + pad_before - r * dil;  // dilated-dy index of output `phase`
    PhaseTap& t = taps[size_t(r)];
    if (mod(u, stride) != 0) continue;  // lands on inserted zeros for this whole phase
    t.base = floor_div(u, stride);
    t.lo = std::max<int64_t>(0, -t.base);
    t.hi = std::min<int64_t>(count, out - t.base);
    if (t.hi < t.lo) t.hi = t.lo;
  }
  return taps;
}

PixelPhases pixel_phases(const ConvParams& p) {
  const int64_t H = p.H, W = p.W, P = p.P(), Q = p.Q(), sh = p.stride_h, sw = p.stride_w;
  PixelPhases pp;
  pp.rmin = 0, pp.rmax = P - 1, pp.cmin = 0, pp.cmax = Q - 1;
  for (int64_t fh = 0; fh < sh && fh < H; ++fh) {
    const std::vector<PhaseTap> rt = phase_taps(fh, sh, p.dil_h, p.pad_top, p.R, H, P);
    for (int64_t fw = 0; fw < sw && fw < W; ++fw) {
      const std::vector<PhaseTap> ct = phase_taps(fw, sw, p.dil_w, p.pad_left, p.S, W, Q);
      PixelPhase ph;
      ph.fh = fh, ph.fw = fw, ph.rows = phase_count(H, sh, fh), ph.cols = phase_count(W, sw, fw);
      for (int64_t r = 0; r < p.R; ++r)
        for (int64_t s = 0; s < p.S; ++s) {
          const PhaseTap &tr = rt[size_t(r)], &tc = ct[size_t(s)];
          if (tr.lo >= tr.hi || tc.lo >= tc.hi) continue;  // lands on no dy entry of this phase
          ph.rbase.push_back(tr.base);
          ph.cbase.push_back(tc.base);
          ph.rs.push_back(r * p.S + s);
          pp.rmin = std::min(pp.rmin, tr.base), pp.rmax = std::max(pp.rmax, tr.base + ph.rows - 1);
          pp.cmin = std::min(pp.cmin, tc.base), pp.cmax = std::max(pp.cmax, tc.base + ph.cols - 1);
        }
      pp.phases.push_back(std::move(ph));
    }
  }
  return pp;
}

ChannelSplit split_channels(int64_t N, int64_t C, int64_t plane) {
  constexpr int64_t kTaskOutputs = 16384;
  const int64_t nt = num_threads();
  int64_t per_image = std::max<int64_t>(1, std::min(C, C * plane / kTaskOutputs));
  while (N * per_image < nt && per_image < C) ++per_image;
  const int64_t cb = (C + per_image - 1) / per_image;
  return ChannelSplit{cb, (C + cb - 1) / cb};
}

}  // namespace convbp::direct
