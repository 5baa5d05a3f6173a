// transpose in plain C++ (contract: cpp/kernels/kernels.hpp).
#include "kernels/generic/runs-generic.hpp"

namespace convbp::generic {
void f32_transpose(const float* src, int64_t lds, int64_t rows, int64_t cols, float* dst, int64_t ldd) {
  transpose(src, lds, rows, cols, dst, ldd);
}
void f64_transpose(const double* src, int64_t lds, int64_t rows, int64_t cols, double* dst, int64_t ldd) {
  transpose(src, lds, rows, cols, dst, ldd);
}
}  // namespace convbp::generic
