// The plain loops of split_columns (contract: cpp/kernels/kernels.hpp), for every
// ISA: the generic and AVX2 rows run them for every step, AVX-512 for steps other
// than 2. Included *inside* an ISA namespace: no #include, no std:: calls. The
// anonymous namespace gives each ISA's copy internal linkage, so the linker can
// never merge a copy compiled with one ISA's flags into another's row.

namespace split_columns_detail {
namespace {

template <typename T>
void loops(const T* src, int64_t lds, int64_t rows, int64_t cols, int64_t step, T* dst, int64_t ldd,
           int64_t phase_stride, int64_t width) {
  for (int64_t f = 0; f < step && f < cols; ++f) {
    int64_t count = (cols - f + step - 1) / step;
    if (count > width) count = width;
    for (int64_t i = 0; i < rows; ++i) {
      const T* s = src + i * lds + f;
      T* d = dst + f * phase_stride + i * ldd;
      for (int64_t v = 0; v < count; ++v) d[v] = s[v * step];
    }
  }
}

}  // namespace
}  // namespace split_columns_detail
