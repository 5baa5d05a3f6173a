// The direct route's "plane dots" micro-kernel (depthwise backward-weight) for float64 on AVX-512 (zmm).
// Contract: kernels/direct-args.hpp; the tile code: kernels/direct-plane-dots.inl.
#include "kernels/kernels.hpp"
#include "kernels/avx512/vec-avx512.hpp"

namespace convbp::avx512 {

#include "kernels/direct-plane-dots.inl"

void f64_direct_plane_dots(const DirectPlaneDotsArgs<double>& a) { direct_plane_dots<VecF64>(a); }

}  // namespace convbp::avx512
