// The direct route's "plane rows" micro-kernel (depthwise forward / backward-input) for float64 on baseline SSE2 (GCC vector extensions).
// Contract: kernels/direct-args.hpp; the tile code: kernels/direct-plane-rows.inl.
#include "kernels/kernels.hpp"
#include "kernels/generic/vec-generic.hpp"

namespace convbp::generic {

#include "kernels/direct-plane-rows.inl"

void f64_direct_plane_rows(const DirectPlaneRowsArgs<double>& a) { direct_plane_rows<VecF64>(a); }

}  // namespace convbp::generic
