// The direct route's "plane rows" micro-kernel (depthwise forward / backward-input) for float32 on AVX2 + FMA (ymm).
// Contract: kernels/direct-args.hpp; the tile code: kernels/direct-plane-rows.inl.
#include "kernels/kernels.hpp"
#include "kernels/avx2/vec-avx2.hpp"

namespace convbp::avx2 {

#include "kernels/direct-plane-rows.inl"

void f32_direct_plane_rows(const DirectPlaneRowsArgs<float>& a) { direct_plane_rows<VecF32>(a); }

}  // namespace convbp::avx2
