// The direct route's "dots" micro-kernel (backward-weight) for float64 on AVX-512 (zmm).
// Contract: kernels/direct-args.hpp; the tile code: kernels/direct-dots.inl.
#include "kernels/kernels.hpp"
#include "kernels/avx512/vec-avx512.hpp"

namespace convbp::avx512 {

#include "kernels/direct-dots.inl"

void f64_direct_dots(const DirectDotsArgs<double>& a) { direct_dots<VecF64>(a); }

}  // namespace convbp::avx512
