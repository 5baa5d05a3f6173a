#include "convbp/params.hpp"

#include <sstream>
#include <stdexcept>

namespace convbp {

namespace {

[[noreturn]] void fail(const std::string& msg) { throw std::invalid_argument(msg); }

// a * b, or an exception naming `what` if the product leaves int64.
int64_t checked_mul(int64_t a, int64_t b, const char* what) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) {
    std::ostringstream os;
    os << "sizes overflow: " << what << " does not fit in 64 bits (" << a << " * " << b << ")";
    fail(os.str());
  }
  return r;
}

int64_t checked_add(int64_t a, int64_t b, const char* what) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) {
    std::ostringstream os;
    os << "sizes overflow: " << what << " does not fit in 64 bits (" << a << " + " << b << ")";
    fail(os.str());
  }
  return r;
}

}  // namespace

// "(h, w)" for conv2d, "w" for conv1d: messages speak the caller's dimensionality.
static std::string ConvParams_fmt2(const ConvParams& p, int64_t h, int64_t w) {
  std::ostringstream os;
  if (p.spatial_dims == 1) os << w; else os << "(" << h << ", " << w << ")";
  return os.str();
}
static std::string ConvParams_fmt_pad(const ConvParams& p) {
  std::ostringstream os;
  if (p.spatial_dims == 1) os << "(" << p.pad_left << ", " << p.pad_right << ") (left, right)";
  else os << "(" << p.pad_top << ", " << p.pad_bottom << ", " << p.pad_left << ", " << p.pad_right << ") (top, bottom, left, right)";
  return os.str();
}

double ConvParams::flops() const {
  return 2.0 * double(N) * double(K) * double(Cg()) * double(R) * double(S) * double(P()) *
         double(Q());
}

void ConvParams::validate() const {
  std::ostringstream os;
  if (N < 0) { os << "batch size N=" << N << " must be >= 0"; fail(os.str()); }
  if (C < 1) { os << "in_channels C=" << C << " must be >= 1"; fail(os.str()); }
  if (K < 1) { os << "out_channels K=" << K << " must be >= 1"; fail(os.str()); }
  const bool one = spatial_dims == 1;
  auto f2 = [this](int64_t h, int64_t w) { return ConvParams_fmt2(*this, h, w); };
  if (H < 1 || W < 1) { os << (one ? "input length L=" : "input spatial size (H, W)=") << f2(H, W) << " must be >= 1"; fail(os.str()); }
  if (R < 1 || S < 1) { os << (one ? "kernel size S=" : "kernel size (R, S)=") << f2(R, S) << " must be >= 1"; fail(os.str()); }
  if (groups < 1) { os << "groups=" << groups << " must be >= 1"; fail(os.str()); }
  if (C % groups != 0) { os << "groups=" << groups << " must divide in_channels C=" << C; fail(os.str()); }
  if (K % groups != 0) { os << "groups=" << groups << " must divide out_channels K=" << K; fail(os.str()); }
  if (stride_h < 1 || stride_w < 1) { os << "stride=" << f2(stride_h, stride_w) << " must be >= 1"; fail(os.str()); }
  if (dil_h < 1 || dil_w < 1) { os << "dilation=" << f2(dil_h, dil_w) << " must be >= 1"; fail(os.str()); }
  if (pad_top < 0 || pad_bottom < 0 || pad_left < 0 || pad_right < 0) {
    os << "padding=" << ConvParams_fmt_pad(*this) << " must be >= 0";
    fail(os.str());
  }
  // Padded extents and the dilated kernel extent, overflow-checked.
  const int64_t Hp = checked_add(checked_add(H, pad_top, "padded height"), pad_bottom, "padded height");
  const int64_t Wp = checked_add(checked_add(W, pad_left, "padded width"), pad_right, "padded width");
  const int64_t Rd = checked_add(checked_mul(dil_h, R - 1, "dilated kernel height"), 1, "dilated kernel height");
  const int64_t Sd = checked_add(checked_mul(dil_w, S - 1, "dilated kernel width"), 1, "dilated kernel width");
  if (Hp < Rd || Wp < Sd) {
    os << "output size would be < 1: the padded input " << f2(Hp, Wp)
       << " is smaller than the dilated kernel dilation*(kernel-1)+1 = " << f2(Rd, Sd)
       << " [input " << (one ? "L=" : "(H, W)=") << f2(H, W) << ", kernel " << (one ? "S=" : "(R, S)=")
       << f2(R, S) << ", dilation=" << f2(dil_h, dil_w) << ", padding=" << ConvParams_fmt_pad(*this) << "]";
    fail(os.str());
  }
  // Every element count and its byte size (8 bytes for float64) must fit in int64.
  const int64_t Pv = P(), Qv = Q();
  const int64_t xs = checked_mul(checked_mul(checked_mul(N, C, "input size"), H, "input size"), W, "input size");
  const int64_t ws = checked_mul(checked_mul(checked_mul(K, Cg(), "weight size"), R, "weight size"), S, "weight size");
  const int64_t ys = checked_mul(checked_mul(checked_mul(N, K, "output size"), Pv, "output size"), Qv, "output size");
  checked_mul(xs, 8, "input bytes");
  checked_mul(ws, 8, "weight bytes");
  checked_mul(ys, 8, "output bytes");
  // im2col-style index arithmetic forms (C/g)*R*S*P*Q per image.
  checked_mul(checked_mul(checked_mul(ws / (K ? K : 1), Pv, "patch matrix size"), Qv, "patch matrix size"), 8,
              "patch matrix bytes");
}

std::string ConvParams::to_string() const {
  std::ostringstream os;
  os << "ConvParams(N=" << N << ", C=" << C << ", H=" << H << ", W=" << W << ", K=" << K
     << ", R=" << R << ", S=" << S << ", groups=" << groups << ", stride=(" << stride_h << ", "
     << stride_w << "), dilation=(" << dil_h << ", " << dil_w << "), padding=(" << pad_top << ", "
     << pad_bottom << ", " << pad_left << ", " << pad_right << "), P=" << P() << ", Q=" << Q() << ")";
  return os.str();
}

}  // namespace convbp
