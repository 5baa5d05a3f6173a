// f32 GEMM micro-kernel, AVX-512, 8 x 32 (16 zmm accumulators + 2 for B): the
// table's narrow f32 kernel, for products whose N is a multiple of 32 but not
// of 48 (64 channels: 2 panels instead of 96 columns' worth). Template:
// gemm-ukernel-avx512.hpp.
#include "kernels/avx512/gemm-ukernel-avx512.hpp"

namespace convbp::avx512 {

extern const int f32_gemm_narrow_mr = 8;
extern const int f32_gemm_narrow_nr = 32;

void f32_gemm_narrow_ukernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int64_t m, int64_t n,
                             bool accumulate) {
  gemm_ukernel<float, 8, 2>(kc, a, b, c, ldc, m, n, accumulate);
}

}  // namespace convbp::avx512
