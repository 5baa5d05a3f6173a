// 2-d max and average pooling on (N, C, H, W) planes, PyTorch's semantics
// (a 1-d pool is the H = 1 case). The caller (convbp.nn) computes the output
// size P x Q, ceil_mode included; windows may hang over the padding or the
// bottom/right edge, and only elements inside the input are read.
#pragma once

#include <cstdint>
#include <string>

namespace convbp {

struct PoolParams {
  int64_t N = 0, C = 0, H = 0, W = 0;   // input (N, C, H, W)
  int64_t kh = 1, kw = 1;               // window
  int64_t sh = 1, sw = 1;               // stride
  int64_t ph = 0, pw = 0;               // padding (top = bottom, left = right)
  int64_t dh = 1, dw = 1;               // dilation (max pool only)
  int64_t P = 0, Q = 0;                 // output (N, C, P, Q)

  // Throws std::invalid_argument naming the field unless every size is >= 0,
  // window, stride, dilation >= 1, padding >= 0, and the element counts fit int64.
  void validate() const;
  std::string to_string() const;
};

// y = max over each window; idx = the window's arg-max as h * W + w in its plane
// (the first maximum in row-major order, a NaN beats any number and the last NaN
// wins, as PyTorch; -1 when the window holds no input element, y = -inf there).
template <typename T>
void max_pool2d_forward(const PoolParams& p, const T* x, T* y, int64_t* idx);

// dx = 0, then dx[idx] += dy for every output (overlapping windows add).
template <typename T>
void max_pool2d_backward(const PoolParams& p, const T* dy, const int64_t* idx, T* dx);

// y = (sum of the window's input elements) / divisor, where divisor is
// divisor_override if > 0, else the window clipped to the padded input
// (count_include_pad) or to the input itself.
template <typename T>
void avg_pool2d_forward(const PoolParams& p, bool count_include_pad, int64_t divisor_override, const T* x, T* y);

// dx = 0, then every input element of a window gets dy / divisor of that window.
template <typename T>
void avg_pool2d_backward(const PoolParams& p, bool count_include_pad, int64_t divisor_override, const T* dy, T* dx);

}  // namespace convbp
