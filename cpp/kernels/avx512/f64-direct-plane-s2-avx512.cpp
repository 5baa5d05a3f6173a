// The direct route's "plane stride-2 rows" micro-kernel (depthwise forward, column stride 2) for float64 on AVX-512 (zmm).
// Contract: kernels/direct-args.hpp; the code: kernels/direct-plane-s2.inl.
#include "kernels/kernels.hpp"
#include "kernels/avx512/vec-avx512.hpp"

namespace convbp::avx512 {

#include "kernels/direct-plane-s2.inl"

void f64_direct_plane_s2(const DirectPlaneS2Args<double>& a) { direct_plane_s2<VecF64>(a); }

}  // namespace convbp::avx512
