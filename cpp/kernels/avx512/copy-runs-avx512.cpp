// copy_runs with AVX-512 (contract: cpp/kernels/kernels.hpp): each contiguous
// run is moved in full vectors and one masked tail, so a run of 7 floats costs
// one masked load and store; stride-2 runs (stride-2 convolutions) load pairs
// of vectors and keep the even lanes; larger strides use masked gathers.
#include "kernels/avx512/simd-avx512.hpp"
#include "kernels/kernels.hpp"

namespace convbp::avx512 {

namespace {
template <typename T>
void copy_runs(const CopyRun* runs, int64_t n, const T* src, T* dst) {
  using S = Simd<T>;
  for (int64_t r = 0; r < n; ++r) {
    const CopyRun run = runs[r];
    T* d = dst + run.dst;
    if (run.step == 1) {
      const T* s = src + run.src;
      for (int64_t i = 0; i < run.len; i += S::L) {
        const auto m = S::first(run.len - i);
        S::store(d + i, m, S::load(m, s + i));
      }
    } else if (run.step <= 0) {
      for (int64_t i = 0; i < run.len; i += S::L) S::store(d + i, S::first(run.len - i), S::zero());
    } else if (run.step == 2) {
      const T* s = src + run.src;
      for (int64_t i = 0; i < run.len; i += S::L) S::store(d + i, S::first(run.len - i), S::load_even(S::first(run.len - i), s + 2 * i, run.len - i));
    } else {
      const T* s = src + run.src;
      for (int64_t i = 0; i < run.len; i += S::L) {
        const auto m = S::first(run.len - i);
        S::store(d + i, m, S::load_step(m, s + i * run.step, run.step));
      }
    }
  }
}
}  // namespace

void f32_copy_runs(const CopyRun* runs, int64_t n, const float* src, float* dst) { copy_runs(runs, n, src, dst); }
void f64_copy_runs(const CopyRun* runs, int64_t n, const double* src, double* dst) { copy_runs(runs, n, src, dst); }

}  // namespace convbp::avx512
