// The direct route's "rows" micro-kernel for float64 on baseline SSE2 (GCC vector extensions).
// Contract: kernels/direct-args.hpp; the tile code: kernels/direct-rows.inl.
#include "kernels/kernels.hpp"
#include "kernels/generic/vec-generic.hpp"

namespace convbp::generic {

#include "kernels/direct-rows.inl"

void f64_direct_rows(const DirectRowsArgs<double>& a) { direct_rows<VecF64>(a); }

}  // namespace convbp::generic
