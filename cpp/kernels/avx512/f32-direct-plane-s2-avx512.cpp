// The direct route's "plane stride-2 rows" micro-kernel (depthwise forward, column stride 2) for float32 on AVX-512 (zmm).
// Contract: kernels/direct-args.hpp; the code: kernels/direct-plane-s2.inl.
#include "kernels/kernels.hpp"
#include "kernels/avx512/vec-avx512.hpp"

namespace convbp::avx512 {

#include "kernels/direct-plane-s2.inl"

void f32_direct_plane_s2(const DirectPlaneS2Args<float>& a) { direct_plane_s2<VecF32>(a); }

}  // namespace convbp::avx512
