// f64 GEMM micro-kernel, AVX-512, 8 x 16 (16 zmm accumulators + 2 for B): the
// table's narrow f64 kernel (see f32-gemm-8x32-avx512.cpp). Template:
// gemm-ukernel-avx512.hpp.
#include "kernels/avx512/gemm-ukernel-avx512.hpp"

namespace convbp::avx512 {

extern const int f64_gemm_narrow_mr = 8;
extern const int f64_gemm_narrow_nr = 16;

void f64_gemm_narrow_ukernel(int64_t kc, const double* a, const double* b, double* c, int64_t ldc, int64_t m,
                             int64_t n, bool accumulate) {
  gemm_ukernel<double, 8, 2>(kc, a, b, c, ldc, m, n, accumulate);
}

}  // namespace convbp::avx512
