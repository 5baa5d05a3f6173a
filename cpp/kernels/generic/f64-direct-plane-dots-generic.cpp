// The direct route's "plane dots" micro-kernel (depthwise backward-weight) for float64 on baseline SSE2 (GCC vector extensions).
// Contract: kernels/direct-args.hpp; the tile code: kernels/direct-plane-dots.inl.
#include "kernels/kernels.hpp"
#include "kernels/generic/vec-generic.hpp"

namespace convbp::generic {

#include "kernels/direct-plane-dots.inl"

void f64_direct_plane_dots(const DirectPlaneDotsArgs<double>& a) { direct_plane_dots<VecF64>(a); }

}  // namespace convbp::generic
