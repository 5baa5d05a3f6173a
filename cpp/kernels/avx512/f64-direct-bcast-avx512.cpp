// The direct route's broadcast micro-kernels (grouped convolutions, channels of a group in the lanes) for double on AVX-512 (zmm).
// Contract: kernels/direct-args.hpp; the code: kernels/direct-bcast.inl.
#include "kernels/kernels.hpp"
#include "kernels/avx512/vec-avx512.hpp"

namespace convbp::avx512 {

#include "kernels/direct-bcast.inl"

const int f64_direct_bcast_lanes = VecF64::L;
void f64_direct_bcast_rows(const DirectBcastArgs<double>& a) { direct_bcast_rows<VecF64>(a); }
void f64_direct_bcast_dots(const DirectBcastArgs<double>& a) { direct_bcast_dots<VecF64>(a); }

}  // namespace convbp::avx512
