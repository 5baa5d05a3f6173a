// Max and average pooling, one (n, c) plane per parallel_for item: planes are
// independent, so each thread writes only its own outputs (and, backward, its own
// dx plane: overlapping windows add in a fixed order, so results are
// bit-identical for any thread count). Each tap's range of output columns is
// clipped to the input once per row, so the inner loops read no padding and
// test no bounds.
#include "convbp/pool.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "parallel.hpp"

namespace convbp {

void PoolParams::validate() const {
  auto fail = [&](const std::string& what) { throw std::invalid_argument("pool2d: " + what + " in " + to_string()); };
  if (N < 0 || C < 0 || H < 0 || W < 0 || P < 0 || Q < 0) fail("negative size");
  if (kh < 1 || kw < 1 || sh < 1 || sw < 1 || dh < 1 || dw < 1) fail("kernel, stride and dilation must be >= 1");
  if (ph < 0 || pw < 0) fail("padding must be >= 0");
  int64_t r;
  if (__builtin_mul_overflow(N, C, &r) || __builtin_mul_overflow(r, H, &r) || __builtin_mul_overflow(r, W, &r) ||
      __builtin_mul_overflow(N * C, P, &r) || __builtin_mul_overflow(r, Q, &r))
    fail("element count overflows int64");
  // Window starts and ends as computed below stay far inside int64.
  if (P > 0 && (__builtin_mul_overflow(P, sh, &r) || __builtin_mul_overflow(kh, dh, &r))) fail("size overflow");
  if (Q > 0 && (__builtin_mul_overflow(Q, sw, &r) || __builtin_mul_overflow(kw, dw, &r))) fail("size overflow");
}

std::string PoolParams::to_string() const {
  std::ostringstream os;
  os << "PoolParams(x=(" << N << ", " << C << ", " << H << ", " << W << "), kernel=(" << kh << ", " << kw
     << "), stride=(" << sh << ", " << sw << "), padding=(" << ph << ", " << pw << "), dilation=(" << dh << ", "
     << dw << "), out=(" << P << ", " << Q << "))";
  return os.str();
}

namespace {

// The loops run over one plane: output rows outer, then the window's taps (i, j)
// in row-major order, then every output column whose tap j lands inside the
// input. Columns are independent in the innermost loop, so they pipeline (and
// vectorize); a loop over one window's taps would be one dependent chain per
// output (measured 21 -> 2.5 ns per output for 2x2 windows on 16x16 planes).
// The geometry is copied into locals: the int64 index stores could otherwise
// alias PoolParams' fields and force reloads.
struct Plane {
  int64_t H, W, P, Q, kh, kw, sh, sw, ph, pw, dh, dw;
  explicit Plane(const PoolParams& p)
      : H(p.H), W(p.W), P(p.P), Q(p.Q), kh(p.kh), kw(p.kw), sh(p.sh), sw(p.sw), ph(p.ph), pw(p.pw), dh(p.dh),
        dw(p.dw) {}
  // The window columns [jlo, jhi) whose tap reads an input column for some
  // output column: the loops visit only these, so their work is bounded by the
  // input, not by the kernel (a kernel of 2^40 with padding 2^39 ran for hours).
  void taps_w(int64_t& jlo, int64_t& jhi) const {
    jlo = std::max<int64_t>(0, ceil_div(pw - (Q - 1) * sw, dw));
    jhi = std::min<int64_t>(kw, floor_div(W - 1 + pw, dw) + 1);
    if (jhi < jlo) jhi = jlo;
  }
  // Output columns [lo, hi) for which tap j reads an input column.
  void columns(int64_t j, int64_t& lo, int64_t& hi) const {
    const int64_t off = j * dw - pw;                       // w = ow * sw + off
    lo = off >= 0 ? 0 : ceil_div(-off, sw);
    hi = W - 1 - off < 0 ? 0 : floor_div(W - 1 - off, sw) + 1;
    if (hi > Q) hi = Q;
    if (lo > hi) lo = hi;
  }
};

// PyTorch's average-pool window [start, end) for output o: clipped to the padded
// input (`full` counts it) and to the input ([lo, hi)).
struct Span {
  int64_t lo, hi, full;
};
Span avg_span(int64_t o, int64_t s, int64_t k, int64_t pad, int64_t size) {
  const int64_t start = o * s - pad;
  int64_t end = start + k < size + pad ? start + k : size + pad;
  const int64_t full = end - start;
  if (end > size) end = size;
  const int64_t lo = start < 0 ? 0 : start;
  return {lo, end > lo ? end : lo, full};
}

int64_t divisor(const Span& h, const Span& w, bool count_include_pad, int64_t divisor_override) {
  if (divisor_override > 0) return divisor_override;
  return count_include_pad ? h.full * w.full : (h.hi - h.lo) * (w.hi - w.lo);
}

}  // namespace

template <typename T>
void max_pool2d_forward(const PoolParams& p, const T* x, T* y, int64_t* idx) {
  p.validate();
  const Plane g(p);
  const int64_t HW = g.H * g.W, PQ = g.P * g.Q;
  int64_t jlo, jhi;
  g.taps_w(jlo, jhi);
  parallel_for(p.N * p.C, [&, g](int64_t plane) {
    const T* xs = x + plane * HW;
    for (int64_t oh = 0; oh < g.P; ++oh) {
      T* best = y + plane * PQ + oh * g.Q;
      int64_t* at = idx + plane * PQ + oh * g.Q;
      // PyTorch's start: -inf at the window's first input element (so a window of
      // -inf answers its first element), -1 for a window with no input element.
      // (The first tap at or below the top / left edge, in closed form: a
      // counting loop ran once per padding tap.)
      const int64_t i0 = std::min(g.kh, std::max<int64_t>(0, ceil_div(g.ph - oh * g.sh, g.dh)));
      const int64_t h0 = oh * g.sh - g.ph + i0 * g.dh;
      for (int64_t ow = 0; ow < g.Q; ++ow) {
        const int64_t j0 = std::min(g.kw, std::max<int64_t>(0, ceil_div(g.pw - ow * g.sw, g.dw)));
        const int64_t w0 = ow * g.sw - g.pw + j0 * g.dw;
        best[ow] = -std::numeric_limits<T>::infinity();
        at[ow] = (i0 < g.kh && h0 < g.H && j0 < g.kw && w0 < g.W) ? h0 * g.W + w0 : -1;
      }
      for (int64_t i = i0; i < g.kh; ++i) {
        const int64_t h = oh * g.sh - g.ph + i * g.dh;
        if (h >= g.H) break;
        for (int64_t j = jlo; j < jhi; ++j) {
          int64_t lo, hi;
          g.columns(j, lo, hi);
          const int64_t base = h * g.W + j * g.dw - g.pw;
          for (int64_t ow = lo; ow < hi; ++ow) {
            const int64_t e = base + ow * g.sw;
            const T v = xs[e];
            // Larger (so the first maximum stays) or NaN (PyTorch keeps the last NaN).
            const bool take = (v > best[ow]) | (v != v);
            best[ow] = take ? v : best[ow];
            at[ow] = take ? e : at[ow];
          }
        }
      }
    }
  });
}

template <typename T>
void max_pool2d_backward(const PoolParams& p, const T* dy, const int64_t* idx, T* dx) {
  p.validate();
  const int64_t HW = p.H * p.W, PQ = p.P * p.Q;
  parallel_for(p.N * p.C, [&](int64_t plane) {
    T* ds = dx + plane * HW;
    for (int64_t e = 0; e < HW; ++e) ds[e] = T(0);
    const T* gs = dy + plane * PQ;
    const int64_t* is = idx + plane * PQ;
    for (int64_t o = 0; o < PQ; ++o) {
      const int64_t e = is[o];
      if (e < 0) continue;
      if (e >= HW) throw std::invalid_argument("max_pool2d_backward: index " + std::to_string(e) +
                                               " outside a plane of " + std::to_string(HW) + " elements");
      ds[e] += gs[o];
    }
  });
}

namespace {

// Checks an average pool's geometry (no dilation) and returns its Plane.
Plane avg_plane(const PoolParams& p) {
  p.validate();
  if (p.dh != 1 || p.dw != 1) throw std::invalid_argument("avg_pool2d: dilation must be 1 in " + p.to_string());
  return Plane(p);
}

// f(offset, lo, hi) for every input row h of output row `sh` and window column j:
// output columns [lo, hi) read plane element offset + ow * sw.
template <class F>
void avg_row_taps(const Plane& g, const Span& sh, F&& f) {
  int64_t jlo, jhi;
  g.taps_w(jlo, jhi);
  for (int64_t h = sh.lo; h < sh.hi; ++h)
    for (int64_t j = jlo; j < jhi; ++j) {
      int64_t lo, hi;
      g.columns(j, lo, hi);
      f(h * g.W + j - g.pw, lo, hi);
    }
}

// out[ow] = in[ow] / divisor of window (sh, ow), or 0 for a divisor of 0.
template <typename T>
void avg_divide(const Plane& g, const Span& sh, bool count_include_pad, int64_t divisor_override, const T* in,
                T* out) {
  for (int64_t ow = 0; ow < g.Q; ++ow) {
    const int64_t div = divisor(sh, avg_span(ow, g.sw, g.kw, g.pw, g.W), count_include_pad, divisor_override);
    out[ow] = div > 0 ? in[ow] / T(div) : T(0);
  }
}

}  // namespace

template <typename T>
void avg_pool2d_forward(const PoolParams& p, bool count_include_pad, int64_t divisor_override, const T* x, T* y) {
  const Plane g = avg_plane(p);
  const int64_t HW = g.H * g.W, PQ = g.P * g.Q;
  parallel_for(p.N * p.C, [&, g](int64_t plane) {
    const T* xs = x + plane * HW;
    for (int64_t oh = 0; oh < g.P; ++oh) {
      T* ys = y + plane * PQ + oh * g.Q;
      const Span sh = avg_span(oh, g.sh, g.kh, g.ph, g.H);
      for (int64_t ow = 0; ow < g.Q; ++ow) ys[ow] = T(0);
      avg_row_taps(g, sh, [&](int64_t off, int64_t lo, int64_t hi) {
        for (int64_t ow = lo; ow < hi; ++ow) ys[ow] += xs[off + ow * g.sw];
      });
      avg_divide(g, sh, count_include_pad, divisor_override, ys, ys);
    }
  });
}

template <typename T>
void avg_pool2d_backward(const PoolParams& p, bool count_include_pad, int64_t divisor_override, const T* dy, T* dx) {
  const Plane g = avg_plane(p);
  const int64_t HW = g.H * g.W, PQ = g.P * g.Q;
  parallel_for(p.N * p.C, [&, g](int64_t plane) {
    T* ds = dx + plane * HW;
    for (int64_t e = 0; e < HW; ++e) ds[e] = T(0);
    std::vector<T> share(static_cast<size_t>(g.Q));
    for (int64_t oh = 0; oh < g.P; ++oh) {
      const Span sh = avg_span(oh, g.sh, g.kh, g.ph, g.H);
      avg_divide(g, sh, count_include_pad, divisor_override, dy + plane * PQ + oh * g.Q, share.data());
      avg_row_taps(g, sh, [&](int64_t off, int64_t lo, int64_t hi) {
        for (int64_t ow = lo; ow < hi; ++ow) ds[off + ow * g.sw] += share[size_t(ow)];
      });
    }
  });
}

#define CONVBP_INSTANTIATE(T)                                                                  \
  template void max_pool2d_forward<T>(const PoolParams&, const T*, T*, int64_t*);              \
  template void max_pool2d_backward<T>(const PoolParams&, const T*, const int64_t*, T*);       \
  template void avg_pool2d_forward<T>(const PoolParams&, bool, int64_t, const T*, T*);         \
  template void avg_pool2d_backward<T>(const PoolParams&, bool, int64_t, const T*, T*);
CONVBP_INSTANTIATE(float)
CONVBP_INSTANTIATE(double)
#undef CONVBP_INSTANTIATE

}  // namespace convbp
