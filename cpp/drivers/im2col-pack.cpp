// Packing phi(x), dy and their transposes into GEMM panels, and col2im (the
// declarations in im2col-pack.hpp say what each computes). Every routine walks
// precomputed column segments, so the inner loops are plain contiguous (or
// strided) copies; padding is skipped by index ranges (valid_range) and written
// as zeros, never read.
#include "drivers/im2col-pack.hpp"

#include <algorithm>
#include <cstring>

#include "drivers/parallel.hpp"

namespace convbp {

void column_segments(int64_t j0, int64_t len, int64_t PQ, int64_t Q, bool by_row, int64_t panel,
                     std::vector<ColSeg>& out) {
  out.clear();
  const int64_t end = j0 + len;
  for (int64_t j = j0; j < end;) {
    const int64_t n = j / PQ, pq = j % PQ;
    int64_t stop = std::min(end, (n + 1) * PQ);
    if (by_row) stop = std::min(stop, j + (Q - pq % Q));
    if (panel > 0) stop = std::min(stop, j0 + ((j - j0) / panel + 1) * panel);
    if (by_row) out.push_back({n, pq / Q, pq % Q, pq % Q + (stop - j), j - j0});
    else out.push_back({n, 0, pq, pq + (stop - j), j - j0});
    j = stop;
  }
}

namespace {

template <typename T>
inline void zero(T* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = T(0);
}

// dst[0..n) = src[0, step, 2*step, ...]
template <typename T>
inline void copy_strided(T* dst, const T* src, int64_t n, int64_t step) {
  if (step == 1) {
    std::memcpy(dst, src, size_t(n) * sizeof(T));
    return;
  }
  for (int64_t i = 0; i < n; ++i) dst[i] = src[i * step];
}

// The zero columns that pad the last of the panels of a tn-column tile, in row pl.
template <typename T>
inline void zero_panel_tail(T* Bp, int64_t tn, int nr, int64_t kc, int64_t pl) {
  const int64_t rem = tn % nr;
  if (rem == 0) return;
  zero(Bp + (tn / nr) * nr * kc + pl * nr + rem, nr - rem);
}

// The ranges of one (r, s) tap: output rows [p0, p1) and columns [q0, q1) whose
// input position lies inside x, and the tap's offset into x (oh, ow).
struct Tap {
  int64_t oh, ow, p0, p1, q0, q1;
  Tap(const ConvParams& p, int64_t r, int64_t s) {
    oh = r * p.dil_h - p.pad_top;
    ow = s * p.dil_w - p.pad_left;
    valid_range(oh, p.stride_h, p.H, p.P(), p0, p1);
    valid_range(ow, p.stride_w, p.W, p.Q(), q0, q1);
  }
};

}  // namespace

template <typename T>
void pack_rows_b(const T* base, int64_t img, int64_t PQ, int64_t kc, const std::vector<ColSeg>& segs, int64_t tn,
                 int nr, T* Bp) {
  const int64_t panel_size = int64_t(nr) * kc;
  for (int64_t pl = 0; pl < kc; ++pl) {
    const T* row = base + pl * PQ;
    for (const ColSeg& sg : segs) {
      T* dst = Bp + (sg.col / nr) * panel_size + pl * nr + sg.col % nr;
      std::memcpy(dst, row + sg.n * img + sg.q0, size_t(sg.q1 - sg.q0) * sizeof(T));
    }
    zero_panel_tail(Bp, tn, nr, kc, pl);
  }
}

template <typename T>
void pack_rows_a(const T* base, int64_t img, int64_t PQ, int64_t m, const std::vector<ColSeg>& segs, int64_t kc,
                 int mr, T* Ap) {
  const int64_t panels = (m + mr - 1) / mr;
  for (int64_t k = 0; k < panels * mr; ++k) {
    T* a = Ap + (k / mr) * mr * kc + k % mr;
    if (k >= m) {
      for (int64_t pl = 0; pl < kc; ++pl) a[pl * mr] = T(0);
      continue;
    }
    const T* row = base + k * PQ;
    for (const ColSeg& sg : segs) {
      const T* src = row + sg.n * img;
      T* dst = a + sg.col * mr;
      for (int64_t q = sg.q0; q < sg.q1; ++q, dst += mr) *dst = src[q];
    }
  }
}

template <typename T>
void unpack_rows(const T* C, int64_t ldc, int64_t m, const std::vector<ColSeg>& segs, const T* bias, T* base,
                 int64_t img, int64_t PQ) {
  for (int64_t k = 0; k < m; ++k) {
    const T* crow = C + k * ldc;
    for (const ColSeg& sg : segs) {
      T* dst = base + sg.n * img + k * PQ + sg.q0;
      const T* src = crow + sg.col;
      const int64_t len = sg.q1 - sg.q0;
      if (bias) {
        const T b = bias[k];
        for (int64_t i = 0; i < len; ++i) dst[i] = src[i] + b;
      } else {
        std::memcpy(dst, src, size_t(len) * sizeof(T));
      }
    }
  }
}

template <typename T>
void pack_im2col_b(const ConvParams& p, int64_t g, const T* x, int64_t t0, int64_t kc,
                   const std::vector<ColSeg>& segs, int64_t tn, int nr, T* Bp) {
  const int64_t RS = p.R * p.S, HW = p.H * p.W, CHW = p.C * HW, panel_size = int64_t(nr) * kc;
  for (int64_t pl = 0; pl < kc; ++pl) {
    const int64_t t = t0 + pl, c = t / RS, r = (t % RS) / p.S, s = t % p.S;
    const T* xc = x + (g * p.Cg() + c) * HW;
    const Tap tap(p, r, s);
    for (const ColSeg& sg : segs) {
      T* dst = Bp + (sg.col / nr) * panel_size + pl * nr + sg.col % nr;
      const int64_t len = sg.q1 - sg.q0;
      if (sg.p < tap.p0 || sg.p >= tap.p1) {
        zero(dst, len);
        continue;
      }
      const int64_t a = std::clamp(tap.q0, sg.q0, sg.q1), b = std::clamp(tap.q1, a, sg.q1);
      const T* src = xc + sg.n * CHW + (sg.p * p.stride_h + tap.oh) * p.W + tap.ow;
      zero(dst, a - sg.q0);
      copy_strided(dst + (a - sg.q0), src + a * p.stride_w, b - a, p.stride_w);
      zero(dst + (b - sg.q0), sg.q1 - b);
    }
    zero_panel_tail(Bp, tn, nr, kc, pl);
  }
}

template <typename T>
void pack_im2col_bt(const ConvParams& p, int64_t g, const T* x, int64_t t0, int64_t nt,
                    const std::vector<ColSeg>& segs, int64_t kc, int nr, T* Bp) {
  const int64_t RS = p.R * p.S, HW = p.H * p.W, CHW = p.C * HW, panel_size = int64_t(nr) * kc;
  const int64_t sw = p.stride_w;
  for (int64_t jj = 0; jj < (nt + nr - 1) / nr * nr; ++jj) {
    T* col = Bp + (jj / nr) * panel_size + jj % nr;
    if (jj >= nt) {
      for (int64_t pl = 0; pl < kc; ++pl) col[pl * nr] = T(0);
      continue;
    }
    const int64_t t = t0 + jj, c = t / RS, r = (t % RS) / p.S, s = t % p.S;
    const T* xc = x + (g * p.Cg() + c) * HW;
    const Tap tap(p, r, s);
    for (const ColSeg& sg : segs) {
      T* dst = col + sg.col * nr;
      if (sg.p < tap.p0 || sg.p >= tap.p1) {
        for (int64_t q = sg.q0; q < sg.q1; ++q, dst += nr) *dst = T(0);
        continue;
      }
      const int64_t a = std::clamp(tap.q0, sg.q0, sg.q1), b = std::clamp(tap.q1, a, sg.q1);
      const T* src = xc + sg.n * CHW + (sg.p * p.stride_h + tap.oh) * p.W + tap.ow;
      for (int64_t q = sg.q0; q < a; ++q, dst += nr) *dst = T(0);
      for (int64_t q = a; q < b; ++q, dst += nr) *dst = src[q * sw];
      for (int64_t q = b; q < sg.q1; ++q, dst += nr) *dst = T(0);
    }
  }
}

template <typename T>
void col2im_add(const ConvParams& p, int64_t g, int64_t c0, int64_t c1, const T* C, int64_t ldc,
                const std::vector<ColSeg>& segs, T* dx) {
  const int64_t HW = p.H * p.W, CHW = p.C * HW, sw = p.stride_w;
  for (int64_t c = c0; c < c1; ++c) {
    T* dxc = dx + (g * p.Cg() + c) * HW;
    for (int64_t r = 0; r < p.R; ++r)
      for (int64_t s = 0; s < p.S; ++s) {
        const T* crow = C + (((c - c0) * p.R + r) * p.S + s) * ldc;
        const Tap tap(p, r, s);
        for (const ColSeg& sg : segs) {
          if (sg.p < tap.p0 || sg.p >= tap.p1) continue;
          const int64_t a = std::clamp(tap.q0, sg.q0, sg.q1), b = std::clamp(tap.q1, a, sg.q1);
          T* dst = dxc + sg.n * CHW + (sg.p * p.stride_h + tap.oh) * p.W + tap.ow;
          const T* src = crow + sg.col - sg.q0;
          if (sw == 1)
            for (int64_t q = a; q < b; ++q) dst[q] += src[q];
          else
            for (int64_t q = a; q < b; ++q) dst[q * sw] += src[q];
        }
      }
  }
}

#define CONVBP_INSTANTIATE(T)                                                                                   \
  template void pack_rows_b<T>(const T*, int64_t, int64_t, int64_t, const std::vector<ColSeg>&, int64_t, int,  \
                               T*);                                                                           \
  template void pack_rows_a<T>(const T*, int64_t, int64_t, int64_t, const std::vector<ColSeg>&, int64_t, int,  \
                               T*);                                                                           \
  template void unpack_rows<T>(const T*, int64_t, int64_t, const std::vector<ColSeg>&, const T*, T*, int64_t,  \
                               int64_t);                                                                      \
  template void pack_im2col_b<T>(const ConvParams&, int64_t, const T*, int64_t, int64_t,                      \
                                 const std::vector<ColSeg>&, int64_t, int, T*);                               \
  template void pack_im2col_bt<T>(const ConvParams&, int64_t, const T*, int64_t, int64_t,                     \
                                  const std::vector<ColSeg>&, int64_t, int, T*);                              \
  template void col2im_add<T>(const ConvParams&, int64_t, int64_t, int64_t, const T*, int64_t,                \
                              const std::vector<ColSeg>&, T*);
CONVBP_INSTANTIATE(float)
CONVBP_INSTANTIATE(double)
#undef CONVBP_INSTANTIATE

}  // namespace convbp
