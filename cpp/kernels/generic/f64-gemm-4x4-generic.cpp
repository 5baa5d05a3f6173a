// f64 GEMM micro-kernel in plain C++: a 4 x 4 tile (8 SSE2 accumulators).
#include "kernels/generic/gemm-ukernel-generic.hpp"

namespace convbp::generic {

extern const int f64_gemm_mr = 4;
extern const int f64_gemm_nr = 4;

void f64_gemm_ukernel(int64_t kc, const double* a, const double* b, double* c, int64_t ldc, int64_t m, int64_t n,
                      bool accumulate) {
  gemm_ukernel<double, 4, 4>(kc, a, b, c, ldc, m, n, accumulate);
}

}  // namespace convbp::generic
