// The direct route's "plane rows" micro-kernel (depthwise forward / backward-input) for float32 on baseline SSE2 (GCC vector extensions).
// Contract: kernels/direct-args.hpp; the tile code: kernels/direct-plane-rows.inl.
#include "kernels/kernels.hpp"
#include "kernels/generic/vec-generic.hpp"

namespace convbp::generic {

#include "kernels/direct-plane-rows.inl"

void f32_direct_plane_rows(const DirectPlaneRowsArgs<float>& a) { direct_plane_rows<VecF32>(a); }

}  // namespace convbp::generic
