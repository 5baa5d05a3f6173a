// The direct route's "dots" micro-kernel (backward-weight) for float32 on AVX-512 (zmm).
// Contract: kernels/direct-args.hpp; the tile code: kernels/direct-dots.inl.
#include "kernels/kernels.hpp"
#include "kernels/avx512/vec-avx512.hpp"

namespace convbp::avx512 {

#include "kernels/direct-dots.inl"

void f32_direct_dots(const DirectDotsArgs<float>& a) { direct_dots<VecF32>(a); }

}  // namespace convbp::avx512
