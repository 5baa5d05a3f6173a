// The naive route: the three sums of DESIGN.md computed directly, one output plane
// per parallel task, so every element is written by exactly one thread (no races,
// bit-identical for any thread count). Correct for every ConvParams; the fast
// routes are checked against it and it is the fallback "auto" ends on.
// Padding is skipped by index ranges (valid_range), never read as zeros.
#include <vector>

#include "dispatch/routes.hpp"
#include "drivers/parallel.hpp"

namespace convbp {

namespace {

// y[n,k,p,q] = b[k] + sum_{c in group(k), r, s} w[k,c,r,s] x[n,c,p*sh+r*dh-top, q*sw+s*dw-left]
// (Diba eq. 6 with stride, dilation, groups). One task per (n, k) output plane.
template <typename T>
void forward(const ConvParams& p, const T* x, const T* w, const T* bias, T* y) {
  const int64_t P = p.P(), Q = p.Q(), Cg = p.Cg(), Kg = p.Kg();
  parallel_for(p.N * p.K, [&](int64_t nk) {
    const int64_t n = nk / p.K, k = nk % p.K, g = k / Kg;
    T* yp = y + nk * P * Q;
    const T b0 = bias ? bias[k] : T(0);
    for (int64_t i = 0; i < P * Q; ++i) yp[i] = b0;
    for (int64_t c = 0; c < Cg; ++c) {
      const T* xc = x + ((n * p.C) + g * Cg + c) * p.H * p.W;
      const T* wk = w + (k * Cg + c) * p.R * p.S;
      for (int64_t r = 0; r < p.R; ++r) {
        const int64_t oh = r * p.dil_h - p.pad_top;
        int64_t p0, p1;
        valid_range(oh, p.stride_h, p.H, P, p0, p1);
        for (int64_t s = 0; s < p.S; ++s) {
          const int64_t ow = s * p.dil_w - p.pad_left;
          int64_t q0, q1;
          valid_range(ow, p.stride_w, p.W, Q, q0, q1);
          const T wv = wk[r * p.S + s];
          for (int64_t pp = p0; pp < p1; ++pp) {
            const T* xr = xc + (pp * p.stride_h + oh) * p.W + ow;
            T* yr = yp + pp * Q;
            for (int64_t q = q0; q < q1; ++q) yr[q] += wv * xr[q * p.stride_w];
          }
        }
      }
    }
  });
}

// dx[n,c,h,v] = sum_{k,r,s,p,q: p*sh+r*dh-top=h, q*sw+s*dw-left=v} dy[n,k,p,q] w[k,c,r,s]
// (the transpose of the forward map, Ji & Xie 3.3), accumulated by scattering each
// dy plane through each tap. One task per (n, c) input plane.
template <typename T>
void backward_input(const ConvParams& p, const T* dy, const T* w, T* dx) {
  const int64_t P = p.P(), Q = p.Q(), Cg = p.Cg(), Kg = p.Kg();
  parallel_for(p.N * p.C, [&](int64_t nc) {
    const int64_t n = nc / p.C, c = nc % p.C, g = c / Cg, cl = c % Cg;
    T* dxp = dx + nc * p.H * p.W;
    for (int64_t i = 0; i < p.H * p.W; ++i) dxp[i] = T(0);
    for (int64_t k = g * Kg; k < (g + 1) * Kg; ++k) {
      const T* dyk = dy + (n * p.K + k) * P * Q;
      const T* wk = w + (k * Cg + cl) * p.R * p.S;
      for (int64_t r = 0; r < p.R; ++r) {
        const int64_t oh = r * p.dil_h - p.pad_top;
        int64_t p0, p1;
        valid_range(oh, p.stride_h, p.H, P, p0, p1);
        for (int64_t s = 0; s < p.S; ++s) {
          const int64_t ow = s * p.dil_w - p.pad_left;
          int64_t q0, q1;
          valid_range(ow, p.stride_w, p.W, Q, q0, q1);
          const T wv = wk[r * p.S + s];
          for (int64_t pp = p0; pp < p1; ++pp) {
            T* xr = dxp + (pp * p.stride_h + oh) * p.W + ow;
            const T* dyr = dyk + pp * Q;
            for (int64_t q = q0; q < q1; ++q) xr[q * p.stride_w] += wv * dyr[q];
          }
        }
      }
    }
  });
}

// dw[k,c,r,s] = sum_{n,p,q} dy[n,k,p,q] x[n,c,p*sh+r*dh-top, q*sw+s*dw-left]
// (Diba eq. 15: x correlated with the stride-dilated dy). One task per (k, c)
// filter; each tap sums in double so long reductions stay accurate in float32.
template <typename T>
void backward_weight(const ConvParams& p, const T* x, const T* dy, T* dw) {
  const int64_t P = p.P(), Q = p.Q(), Cg = p.Cg(), Kg = p.Kg();
  parallel_for(p.K * Cg, [&](int64_t kc) {
    const int64_t k = kc / Cg, cl = kc % Cg, g = k / Kg, c = g * Cg + cl;
    for (int64_t r = 0; r < p.R; ++r) {
      const int64_t oh = r * p.dil_h - p.pad_top;
      int64_t p0, p1;
      valid_range(oh, p.stride_h, p.H, P, p0, p1);
      for (int64_t s = 0; s < p.S; ++s) {
        const int64_t ow = s * p.dil_w - p.pad_left;
        int64_t q0, q1;
        valid_range(ow, p.stride_w, p.W, Q, q0, q1);
        double acc = 0.0;
        for (int64_t n = 0; n < p.N; ++n) {
          const T* xc = x + (n * p.C + c) * p.H * p.W;
          const T* dyk = dy + (n * p.K + k) * P * Q;
          for (int64_t pp = p0; pp < p1; ++pp) {
            const T* xr = xc + (pp * p.stride_h + oh) * p.W + ow;
            const T* dyr = dyk + pp * Q;
            for (int64_t q = q0; q < q1; ++q) acc += double(dyr[q]) * double(xr[q * p.stride_w]);
          }
        }
        dw[kc * p.R * p.S + r * p.S + s] = static_cast<T>(acc);
      }
    }
  });
}

std::string accepts_all(const ConvParams&, Pass, DType) { return ""; }

}  // namespace

Route make_naive_route() {
  return Route{"naive",
               accepts_all,
               {forward<float>, backward_input<float>, backward_weight<float>},
               {forward<double>, backward_input<double>, backward_weight<double>}};
}

}  // namespace convbp
