// The direct route's channel-vector micro-kernels (depthwise on small planes) for float on AVX-512 (zmm).
// Contract: kernels/direct-args.hpp; the code: kernels/direct-cvec.inl.
#include "kernels/kernels.hpp"
#include "kernels/avx512/vec-avx512.hpp"

namespace convbp::avx512 {

#include "kernels/direct-cvec.inl"

const int f32_direct_cvec_lanes = VecF32::L;
void f32_direct_cvec_rows(const DirectCvecArgs<float>& a) { direct_cvec_rows<VecF32>(a); }
void f32_direct_cvec_dots(const DirectCvecArgs<float>& a) { direct_cvec_dots<VecF32>(a); }

}  // namespace convbp::avx512
