// f64 GEMM micro-kernel, AVX2+FMA, 6 x 8 (12 ymm accumulators). Template:
// gemm-ukernel-avx2.hpp.
#include "kernels/avx2/gemm-ukernel-avx2.hpp"

namespace convbp::avx2 {

extern const int f64_gemm_mr = 6;
extern const int f64_gemm_nr = 8;

void f64_gemm_ukernel(int64_t kc, const double* a, const double* b, double* c, int64_t ldc, int64_t m,
                      int64_t n, bool accumulate) {
  gemm_ukernel<double, 6, 2>(kc, a, b, c, ldc, m, n, accumulate);
}

}  // namespace convbp::avx2
