// The direct route's "plane dots" micro-kernel (depthwise backward-weight) for float32 on AVX2 + FMA (ymm).
// Contract: kernels/direct-args.hpp; the tile code: kernels/direct-plane-dots.inl.
#include "kernels/kernels.hpp"
#include "kernels/avx2/vec-avx2.hpp"

namespace convbp::avx2 {

#include "kernels/direct-plane-dots.inl"

void f32_direct_plane_dots(const DirectPlaneDotsArgs<float>& a) { direct_plane_dots<VecF32>(a); }

}  // namespace convbp::avx2
