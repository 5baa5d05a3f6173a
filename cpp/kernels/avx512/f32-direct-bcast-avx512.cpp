// The direct route's broadcast micro-kernels (grouped convolutions, channels of a group in the lanes) for float on AVX-512 (zmm).
// Contract: kernels/direct-args.hpp; the code: kernels/direct-bcast.inl.
#include "kernels/kernels.hpp"
#include "kernels/avx512/vec-avx512.hpp"

namespace convbp::avx512 {

#include "kernels/direct-bcast.inl"

const int f32_direct_bcast_lanes = VecF32::L;
void f32_direct_bcast_rows(const DirectBcastArgs<float>& a) { direct_bcast_rows<VecF32>(a); }
void f32_direct_bcast_dots(const DirectBcastArgs<float>& a) { direct_bcast_dots<VecF32>(a); }

}  // namespace convbp::avx512
