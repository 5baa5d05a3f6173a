// split_columns for the AVX2 row (contract: cpp/kernels/kernels.hpp): plain loops
// compiled with AVX2. No route calls it on AVX2 today (the stride-phase depthwise
// route is AVX-512 only: drivers/direct-depthwise-phases.cpp), so it has no
// hand-vectorized form. (Its own copy of the loop, not generic's inline template:
// one template compiled with two ISAs' flags could be merged by the linker into
// the generic row.)
#include "kernels/kernels.hpp"

namespace convbp::avx2 {

namespace {
template <typename T>
void split_columns(const T* src, int64_t lds, int64_t rows, int64_t cols, int64_t step, T* dst, int64_t ldd,
                   int64_t phase_stride, int64_t width) {
  for (int64_t f = 0; f < step && f < cols; ++f) {
    int64_t count = (cols - f + step - 1) / step;  // no std:: template here either
    if (count > width) count = width;
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t v = 0; v < count; ++v) dst[f * phase_stride + i * ldd + v] = src[i * lds + f + v * step];
  }
}
}  // namespace

void f32_split_columns(const float* src, int64_t lds, int64_t rows, int64_t cols, int64_t step, float* dst, int64_t ldd,
                       int64_t phase_stride, int64_t width) {
  split_columns(src, lds, rows, cols, step, dst, ldd, phase_stride, width);
}
void f64_split_columns(const double* src, int64_t lds, int64_t rows, int64_t cols, int64_t step, double* dst,
                       int64_t ldd, int64_t phase_stride, int64_t width) {
  split_columns(src, lds, rows, cols, step, dst, ldd, phase_stride, width);
}

}  // namespace convbp::avx2
