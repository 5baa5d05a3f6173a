// The direct route's "rows" micro-kernel for float64 on AVX2 + FMA (ymm).
// Contract: kernels/direct-args.hpp; the tile code: kernels/direct-rows.inl.
#include "kernels/kernels.hpp"
#include "kernels/avx2/vec-avx2.hpp"

namespace convbp::avx2 {

#include "kernels/direct-rows.inl"

void f64_direct_rows(const DirectRowsArgs<double>& a) { direct_rows<VecF64>(a); }

}  // namespace convbp::avx2
