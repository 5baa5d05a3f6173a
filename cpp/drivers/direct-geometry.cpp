#include "drivers/direct-geometry.hpp"

#include <algorithm>

#include "drivers/parallel.hpp"

namespace convbp::direct {

template <typename T>
SplitInput<T> split_input(const ConvParams& p, const T* x) {
  SplitInput<T> in;
  const int64_t sw = p.stride_w;
  if (sw == 1) {
    in.base = x;
    in.pitch = p.W;
    in.phase = p.H * p.W;
    in.plane = in.phase;
    return in;
  }
  in.pitch = (p.W + sw - 1) / sw;
  in.phase = p.H * in.pitch;
  in.plane = sw * in.phase;
  // Columns past a phase's own width are never read (the taps' ranges stop
  // before them), so the buffer is left uninitialized there.
  in.buf.reset(new T[size_t(p.N * p.C * in.plane)]);
  T* out = in.buf.get();
  const int64_t H = p.H, W = p.W, pitch = in.pitch, phase = in.phase, plane = in.plane;
  parallel_for(p.N * p.C, [&](int64_t nc) {
    const T* xp = x + nc * H * W;
    T* op = out + nc * plane;
    for (int64_t h = 0; h < H; ++h)
      for (int64_t f = 0; f < sw && f < W; ++f) {
        const T* xr = xp + h * W + f;
        T* orow = op + f * phase + h * pitch;
        const int64_t cols = phase_count(W, sw, f);
        for (int64_t i = 0; i < cols; ++i) orow[i] = xr[i * sw];
      }
  });
  in.base = out;
  return in;
}

template SplitInput<float> split_input(const ConvParams&, const float*);
template SplitInput<double> split_input(const ConvParams&, const double*);

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

}  // namespace convbp::direct
