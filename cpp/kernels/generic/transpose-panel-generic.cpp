// transpose_panel in plain C++ (contract: cpp/kernels/kernels.hpp).
#include "kernels/generic/runs-generic.hpp"

namespace convbp::generic {
void f32_transpose_panel(const float* src, int64_t ld, int64_t rows, int64_t kc, int64_t width, float* dst) {
  transpose_panel(src, ld, rows, kc, width, dst);
}
void f64_transpose_panel(const double* src, int64_t ld, int64_t rows, int64_t kc, int64_t width, double* dst) {
  transpose_panel(src, ld, rows, kc, width, dst);
}
}  // namespace convbp::generic
