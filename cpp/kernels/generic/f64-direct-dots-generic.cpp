// The direct route's "dots" micro-kernel (backward-weight) for float64 on baseline SSE2 (GCC vector extensions).
// Contract: kernels/direct-args.hpp; the tile code: kernels/direct-dots.inl.
#include "kernels/kernels.hpp"
#include "kernels/generic/vec-generic.hpp"

namespace convbp::generic {

#include "kernels/direct-dots.inl"

void f64_direct_dots(const DirectDotsArgs<double>& a) { direct_dots<VecF64>(a); }

}  // namespace convbp::generic
