// add_runs with AVX-512 (contract: cpp/kernels/kernels.hpp): unit-stride runs
// add in full vectors and one masked tail; strided destinations element-wise.
#include "kernels/avx512/simd-avx512.hpp"
#include "kernels/kernels.hpp"

namespace convbp::avx512 {

namespace {
template <typename T>
void add_runs(const CopyRun* runs, int64_t n, const T* src, T* dst) {
  using S = Simd<T>;
  for (int64_t r = 0; r < n; ++r) {
    const CopyRun run = runs[r];
    T* d = dst + run.dst;
    const T* s = src + run.src;
    if (run.step == 1) {
      for (int64_t i = 0; i < run.len; i += S::L) {
        const auto m = S::first(run.len - i);
        S::store(d + i, m, S::add(S::load(m, d + i), S::load(m, s + i)));
      }
    } else {
      for (int64_t i = 0; i < run.len; ++i) d[i * run.step] += s[i];
    }
  }
}
}  // namespace

void f32_add_runs(const CopyRun* runs, int64_t n, const float* src, float* dst) { add_runs(runs, n, src, dst); }
void f64_add_runs(const CopyRun* runs, int64_t n, const double* src, double* dst) { add_runs(runs, n, src, dst); }

}  // namespace convbp::avx512
