// The direct route's "dots" micro-kernel (backward-weight) for float32 on baseline SSE2 (GCC vector extensions).
// Contract: kernels/direct-args.hpp; the tile code: kernels/direct-dots.inl.
#include "kernels/kernels.hpp"
#include "kernels/generic/vec-generic.hpp"

namespace convbp::generic {

#include "kernels/direct-dots.inl"

void f32_direct_dots(const DirectDotsArgs<float>& a) { direct_dots<VecF32>(a); }

}  // namespace convbp::generic
