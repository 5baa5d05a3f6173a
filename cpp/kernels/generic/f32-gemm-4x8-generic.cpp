// f32 GEMM micro-kernel in plain C++: a 4 x 8 tile (8 SSE2 accumulators).
#include "kernels/generic/gemm-ukernel-generic.hpp"

namespace convbp::generic {

extern const int f32_gemm_mr = 4;
extern const int f32_gemm_nr = 8;

void f32_gemm_ukernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int64_t m, int64_t n,
                      bool accumulate) {
  gemm_ukernel<float, 4, 8>(kc, a, b, c, ldc, m, n, accumulate);
}

}  // namespace convbp::generic
