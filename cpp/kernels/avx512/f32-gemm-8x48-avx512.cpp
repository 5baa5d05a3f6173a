// f32 GEMM micro-kernel, AVX-512, 8 x 48 (24 zmm accumulators + 3 for B): the
// table's main f32 kernel. Template: gemm-ukernel-avx512.hpp.
#include "kernels/avx512/gemm-ukernel-avx512.hpp"

namespace convbp::avx512 {

extern const int f32_gemm_mr = 8;
extern const int f32_gemm_nr = 48;

void f32_gemm_ukernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int64_t m, int64_t n,
                      bool accumulate) {
  gemm_ukernel<float, 8, 3>(kc, a, b, c, ldc, m, n, accumulate);
}

}  // namespace convbp::avx512
