// The direct route's "plane expand" micro-kernel (strided depthwise backward-input and backward-weight) for float64 on AVX-512 (zmm).
// Contract: kernels/direct-args.hpp; the code: kernels/direct-plane-expand.inl.
#include "kernels/kernels.hpp"
#include "kernels/avx512/vec-avx512.hpp"

namespace convbp::avx512 {

#include "kernels/direct-plane-expand.inl"

void f64_direct_plane_expand(const DirectPlaneExpandArgs<double>& a) { direct_plane_expand<VecF64>(a); }
void f64_direct_plane_expand_dots(const DirectPlaneExpandArgs<double>& a) { direct_plane_expand_dots<VecF64>(a); }

}  // namespace convbp::avx512
