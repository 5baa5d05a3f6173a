// Max and average pooling (cpp/drivers/pool2d.cpp) against a brute-force
// reference that pads explicitly, over every small geometry: windows 1..3,
// strides 1..3, dilation 1..2, padding 0..2 (any padding, even windows wholly in
// it), output sizes up to those of ceil mode, with ties and NaN in the data.
// Values are small integers, so sums and maxima are exact and compared with ==.
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "check.hpp"
#include "convbp/pool.hpp"

using namespace convbp;

namespace {

// The input value at (h, w) of a plane, or nothing in the padding.
template <typename T>
bool at(const std::vector<T>& x, int64_t base, const PoolParams& p, int64_t h, int64_t w, T& v) {
  if (h < 0 || h >= p.H || w < 0 || w >= p.W) return false;
  v = x[size_t(base + h * p.W + w)];
  return true;
}

template <typename T>
void max_case(const PoolParams& p, const std::vector<T>& x) {
  const size_t outs = size_t(p.N * p.C * p.P * p.Q);
  std::vector<T> y(outs), dx(size_t(p.N * p.C * p.H * p.W)), dy(outs);
  std::vector<int64_t> idx(outs);
  max_pool2d_forward<T>(p, x.data(), y.data(), idx.data());
  std::vector<T> want_dx(dx.size(), T(0));
  for (int64_t c = 0; c < p.N * p.C; ++c)
    for (int64_t oh = 0; oh < p.P; ++oh)
      for (int64_t ow = 0; ow < p.Q; ++ow) {
        T best = -std::numeric_limits<T>::infinity(), v;
        int64_t e = -1;
        for (int64_t i = 0; i < p.kh; ++i)
          for (int64_t j = 0; j < p.kw; ++j) {
            const int64_t h = oh * p.sh - p.ph + i * p.dh, w = ow * p.sw - p.pw + j * p.dw;
            if (!at(x, c * p.H * p.W, p, h, w, v)) continue;
            if (e < 0 || v > best || std::isnan(v)) best = v, e = h * p.W + w;   // PyTorch's rule
          }
        const size_t o = size_t((c * p.P + oh) * p.Q + ow);
        CHECK(idx[o] == e, "%s: output %zu index %lld, want %lld", p.to_string().c_str(), o, (long long)idx[o],
              (long long)e);
        CHECK((std::isnan(best) && std::isnan(y[o])) || y[o] == best, "%s: output %zu", p.to_string().c_str(), o);
        dy[o] = T(int(o % 7) - 3);
        if (e >= 0) want_dx[size_t(c * p.H * p.W + e)] += dy[o];
      }
  max_pool2d_backward<T>(p, dy.data(), idx.data(), dx.data());
  CHECK(dx == want_dx, "%s: max backward", p.to_string().c_str());
}

template <typename T>
void avg_case(const PoolParams& p, const std::vector<T>& x, bool include_pad, int64_t override_div) {
  const size_t outs = size_t(p.N * p.C * p.P * p.Q);
  std::vector<T> y(outs), dy(outs), dx(size_t(p.N * p.C * p.H * p.W)), want_dx(dx.size(), T(0));
  avg_pool2d_forward<T>(p, include_pad, override_div, x.data(), y.data());
  for (int64_t c = 0; c < p.N * p.C; ++c)
    for (int64_t oh = 0; oh < p.P; ++oh)
      for (int64_t ow = 0; ow < p.Q; ++ow) {
        // PyTorch's divisor: the window clipped to the padded input, or to the input.
        const int64_t h0 = oh * p.sh - p.ph, w0 = ow * p.sw - p.pw;
        const int64_t h1 = std::min(h0 + p.kh, p.H + p.ph), w1 = std::min(w0 + p.kw, p.W + p.pw);
        T sum = 0, v;
        int64_t in = 0;
        for (int64_t h = h0; h < h1; ++h)
          for (int64_t w = w0; w < w1; ++w)
            if (at(x, c * p.H * p.W, p, h, w, v)) sum += v, ++in;
        const int64_t div = override_div > 0 ? override_div : include_pad ? (h1 - h0) * (w1 - w0) : in;
        const size_t o = size_t((c * p.P + oh) * p.Q + ow);
        const T want = div > 0 ? sum / T(div) : T(0);
        CHECK(y[o] == want, "%s: avg output %zu = %g, want %g", p.to_string().c_str(), o, double(y[o]), double(want));
        dy[o] = T(int(o % 5) - 2) * T(div > 0 ? div : 1);   // dy / div exact
        for (int64_t h = std::max<int64_t>(h0, 0); h < std::min(h1, p.H); ++h)
          for (int64_t w = std::max<int64_t>(w0, 0); w < std::min(w1, p.W); ++w)
            if (div > 0) want_dx[size_t(c * p.H * p.W + h * p.W + w)] += dy[o] / T(div);
      }
  avg_pool2d_backward<T>(p, include_pad, override_div, dy.data(), dx.data());
  CHECK(dx == want_dx, "%s: avg backward", p.to_string().c_str());
}

template <typename T>
void sweep() {
  PoolParams p;
  p.N = 2, p.C = 2;
  for (p.H = 1; p.H <= 5; p.H += 2)
    for (p.W = 1; p.W <= 6; ++p.W)
      for (p.kh = 1; p.kh <= 3; ++p.kh)
        for (p.kw = 1; p.kw <= 3; ++p.kw)
          for (p.sh = 1; p.sh <= 3; p.sh += 2)
            for (p.sw = 1; p.sw <= 3; ++p.sw)
              for (p.ph = 0; p.ph <= 2; p.ph += 2)
                for (p.pw = 0; p.pw <= 2; ++p.pw)
                  for (int64_t d = 1; d <= 2; ++d) {
                    p.dh = p.dw = d;
                    std::vector<T> x(size_t(p.N * p.C * p.H * p.W));
                    for (size_t i = 0; i < x.size(); ++i) x[i] = T(int((i * 7) % 5) - 2);   // ties
                    if (x.size() > 5) x[5] = std::numeric_limits<T>::quiet_NaN();
                    const int64_t span_h = p.H + 2 * p.ph - d * (p.kh - 1) - 1;
                    const int64_t span_w = p.W + 2 * p.pw - d * (p.kw - 1) - 1;
                    if (span_h < 0 || span_w < 0) continue;
                    for (int64_t extra = 0; extra <= 1; ++extra) {   // floor and one more (ceil-like)
                      p.P = span_h / p.sh + 1 + extra, p.Q = span_w / p.sw + 1 + extra;
                      max_case<T>(p, x);
                      if (d == 1) {
                        std::vector<T> xf = x;
                        if (xf.size() > 5) xf[5] = T(1);
                        avg_case<T>(p, xf, true, 0);
                        avg_case<T>(p, xf, false, 0);
                        avg_case<T>(p, xf, true, 3);
                      }
                    }
                  }
}

void preconditions() {
  PoolParams p;
  p.N = p.C = 1, p.H = p.W = 2, p.P = p.Q = 1, p.kh = p.kw = 2, p.sh = p.sw = 2;
  std::vector<float> x(4, 1.f), y(1), dx(4);
  std::vector<int64_t> idx = {4};
  bool threw = false;
  try {
    max_pool2d_backward<float>(p, y.data(), idx.data(), dx.data());
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw, "an index outside the plane must be refused");
  p.sh = 0;
  threw = false;
  try {
    max_pool2d_forward<float>(p, x.data(), y.data(), idx.data());
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw, "stride 0 must be refused");
}

}  // namespace

int main() {
  sweep<float>();
  sweep<double>();
  preconditions();
  return convbp_test::test_exit_code("test-pool");
}
