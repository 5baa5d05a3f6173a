// The im2col + GEMM route (Xu, seed 002): per group g, with phi(x) the patch
// matrix (im2col-pack.hpp; rows (c, r, s), columns the output pixels of the
// whole batch) and W_g the (K/g) x (C/g*R*S) weight matrix,
//     forward      y_g  = W_g phi(x)              (+ bias, fused into the write-back)
//     bwd_data     dx  += col2im(W_g^T dy_g)      (dphi(X) = dY_f W_f^T, then col2im)
//     bwd_weight   dW_g = dy_g phi(x)^T           (dW_f = phi(X)^T dY_f, transposed)
// where dy_g is (K/g) x (N*P*Q). phi(x) is never stored: a tile of its columns
// (or, for dW, a block of its rows) is packed straight into GEMM panels, so the
// workspace is a few blocks per thread whatever the batch size. The weights are
// packed once per call. The passes live in conv-im2col-{forward,backward-input,
// backward-weight}.cpp, their shared pieces in conv-im2col.hpp.
// Work is split into items that write disjoint outputs (forward: pixel tiles,
// and parts of the channels only for tiny outputs; bwd_data: blocks of images,
// whose dx planes no other item touches, and parts of the channels only for
// small batches; bwd_weight: sets of dW column blocks, with per-part partial
// sums over the pixels when dW alone has too few blocks for the threads, added
// in a fixed order), and each item packs its per-tile operand (phi(x) or dy)
// once, so results are bit-identical for a given thread count.
#include "drivers/conv-im2col.hpp"
#include "dispatch/routes.hpp"

namespace convbp {

namespace {

// Every convolution runs here (groups, strides, dilations, padding, conv1d as
// H = 1); nothing is refused.
std::string refuses(const ConvParams&, Pass, DType) { return ""; }

// For explain(): the layout forward and bwd_data would run in (conv-im2col.hpp).
template <typename T>
std::string layout_of(const ConvParams& p, Pass pass) {
  if (pass == Pass::BackwardWeight) return "";
  switch (im2col::layout_for<T>(p, pass == Pass::BackwardInput)) {
    case im2col::Layout::BatchLanes: return "batch-lanes layout (taps that fall in the padding are skipped)";
    case im2col::Layout::PixelsMajor: return "pixels-major layout";
    default: return "channels-major layout";
  }
}

std::string describe(const ConvParams& p, Pass pass, DType dtype) {
  return dtype == DType::F32 ? layout_of<float>(p, pass) : layout_of<double>(p, pass);
}

}  // namespace

Route make_im2col_route() {
  Route r{"im2col",
          refuses,
          {im2col::forward<float>, im2col::backward_input<float>, im2col::backward_weight<float>},
          {im2col::forward<double>, im2col::backward_input<double>, im2col::backward_weight<double>}};
  r.describe = describe;
  return r;
}

}  // namespace convbp
