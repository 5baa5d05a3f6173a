// split_columns in plain C++ (contract: cpp/kernels/kernels.hpp).
#include "kernels/kernels.hpp"

namespace convbp::generic {

#include "kernels/split-columns.inl"

void f32_split_columns(const float* src, int64_t lds, int64_t rows, int64_t cols, int64_t step, float* dst, int64_t ldd,
                       int64_t phase_stride, int64_t width) {
  split_columns_detail::loops(src, lds, rows, cols, step, dst, ldd, phase_stride, width);
}
void f64_split_columns(const double* src, int64_t lds, int64_t rows, int64_t cols, int64_t step, double* dst,
                       int64_t ldd, int64_t phase_stride, int64_t width) {
  split_columns_detail::loops(src, lds, rows, cols, step, dst, ldd, phase_stride, width);
}

}  // namespace convbp::generic
