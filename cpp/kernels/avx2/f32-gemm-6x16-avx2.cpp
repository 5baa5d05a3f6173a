// f32 GEMM micro-kernel, AVX2+FMA, 6 x 16 (12 ymm accumulators). Template:
// gemm-ukernel-avx2.hpp.
#include "kernels/avx2/gemm-ukernel-avx2.hpp"

namespace convbp::avx2 {

extern const int f32_gemm_mr = 6;
extern const int f32_gemm_nr = 16;

void f32_gemm_ukernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int64_t m, int64_t n,
                      bool accumulate) {
  gemm_ukernel<float, 6, 2>(kc, a, b, c, ldc, m, n, accumulate);
}

}  // namespace convbp::avx2
