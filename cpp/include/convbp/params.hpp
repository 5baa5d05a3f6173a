// ConvParams: the one description of a 2-D convolution used everywhere in convbp
// (C++ drivers, the pybind11 binding and, through it, Python). Output-shape
// arithmetic and validation live here and nowhere else. conv1d is the H = R = 1 case.
#pragma once

#include <cstdint>
#include <string>

namespace convbp {

struct ConvParams {
  // x (N, C, H, W); w (K, C/groups, R, S); y (N, K, P, Q)
  int64_t N = 0, C = 0, H = 0, W = 0;
  int64_t K = 0, R = 0, S = 0;
  int64_t groups = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t dil_h = 1, dil_w = 1;
  int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  // 1 for conv1d (H = R = 1, stride_h = dil_h = 1, no top/bottom padding): only
  // changes how error messages print the arguments, never the arithmetic.
  int spatial_dims = 2;

  // P = (H + top + bottom - dh*(R-1) - 1) // sh + 1   (DESIGN.md; Diba eq. 7 solved for h_out)
  // A stride or group count below 1 (which validate() rejects) gives 0 here, not
  // a division by zero: params are printed and inspected before they are validated.
  int64_t P() const { return stride_h > 0 ? (H + pad_top + pad_bottom - dil_h * (R - 1) - 1) / stride_h + 1 : 0; }
  int64_t Q() const { return stride_w > 0 ? (W + pad_left + pad_right - dil_w * (S - 1) - 1) / stride_w + 1 : 0; }
  int64_t Cg() const { return groups > 0 ? C / groups : 0; }  // input channels per group
  int64_t Kg() const { return groups > 0 ? K / groups : 0; }  // output channels per group

  // Element counts of the four tensors (valid after validate()).
  int64_t x_size() const { return N * C * H * W; }
  int64_t w_size() const { return K * Cg() * R * S; }
  int64_t y_size() const { return N * K * P() * Q(); }

  // FLOPs of one pass: 2 * N * K * (C/g) * R * S * P * Q (the same for all three).
  double flops() const;

  // Throws std::invalid_argument, naming the argument and the values, when the
  // parameters do not describe a valid convolution: non-positive sizes (N may be 0),
  // groups not dividing C and K, stride/dilation < 1, negative padding, output
  // size < 1, or element counts / byte sizes that overflow int64.
  void validate() const;

  std::string to_string() const;
};

}  // namespace convbp
