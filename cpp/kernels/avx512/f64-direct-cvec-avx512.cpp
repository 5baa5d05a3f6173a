// The direct route's channel-vector micro-kernels (depthwise on small planes) for double on AVX-512 (zmm).
// Contract: kernels/direct-args.hpp; the code: kernels/direct-cvec.inl.
#include "kernels/kernels.hpp"
#include "kernels/avx512/vec-avx512.hpp"

namespace convbp::avx512 {

#include "kernels/direct-cvec.inl"

const int f64_direct_cvec_lanes = VecF64::L;
void f64_direct_cvec_rows(const DirectCvecArgs<double>& a) { direct_cvec_rows<VecF64>(a); }
void f64_direct_cvec_dots(const DirectCvecArgs<double>& a) { direct_cvec_dots<VecF64>(a); }

}  // namespace convbp::avx512
